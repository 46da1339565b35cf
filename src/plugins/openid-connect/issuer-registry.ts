/**
 * Discovery documents and keys, shared by every plugin instance that names the same issuer with
 * the same connection settings, and kept at module level so a configuration reload finds them warm.
 *
 * The life of an issuer's keys, in one place:
 * - fresh: used as they are;
 * - stale (older than `cache_ttl`): still used, and a refresh starts in the background;
 * - unknown `kid`: one refetch, at most every `rediscovery_lifetime`, shared by concurrent misses;
 * - IdP down: known keys stay in use; attempts back off (5 s, doubling, up to 5 min) and are logged;
 * - never reached: a request waits for the attempt in flight up to `timeout`, then gets a 500.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { discoverIssuer, type IssuerMetadata } from './discovery.js';
import { IdpClient, IdpHttpError } from './http-client.js';
import { KeySet, parseJwks, type IssuerKey } from './jwks.js';

export interface IssuerSettings {
  /** As configured (an issuer identifier or a discovery URL). */
  readonly issuer: string;
  readonly discoveryHeaders: Readonly<Record<string, string>>;
  readonly extraJwksUris: readonly string[];
  readonly jwksEndpoint: string | null;
  readonly sslVerify: boolean;
  readonly timeoutMs: number;
  readonly keepalive: boolean;
  readonly trustedCaPems: readonly string[];
  readonly cacheTtlMs: number;
  readonly rediscoveryMs: number;
}

/** What a request needs: the metadata and the keys, as one consistent pair. */
export interface IssuerSnapshot {
  readonly metadata: IssuerMetadata;
  readonly keys: KeySet;
}

export class IssuerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IssuerUnavailableError';
  }
}

const FIRST_BACKOFF_MS = 5_000;
const MAX_BACKOFF_MS = 300_000;

export class Issuer {
  readonly id: string;
  readonly key: string;
  readonly settings: IssuerSettings;
  readonly createdAt = Date.now();
  updatedAt = Date.now();
  /** Bumped whenever keys are dropped, so token caches built on them stop answering. */
  generation = 0;
  #client: IdpClient;
  #logger: Logger;
  #snapshot: IssuerSnapshot | null = null;
  #fetchedAt = 0;
  #nextAttemptAt = 0;
  #failures = 0;
  #lastError: string | null = null;
  #inflight: Promise<IssuerSnapshot> | null = null;
  users = 0;

  constructor(key: string, settings: IssuerSettings, logger: Logger) {
    this.key = key;
    this.id = uuidFromHash(key);
    this.settings = settings;
    this.#logger = logger.child({ issuer: settings.issuer });
    this.#client = new IdpClient(settings);
  }

  get current(): IssuerSnapshot | null {
    return this.#snapshot;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** Starts discovery if nothing is known yet; never throws (config-time warm-up). */
  warm(): void {
    if (this.#snapshot === null && this.#inflight === null && Date.now() >= this.#nextAttemptAt) this.#refresh().catch(() => undefined);
  }

  /** The metadata and keys for a request, waiting up to `timeout` for a first discovery. */
  async snapshot(now = Date.now()): Promise<IssuerSnapshot> {
    const known = this.#snapshot;
    if (known !== null) {
      if (now - this.#fetchedAt >= this.settings.cacheTtlMs && now >= this.#nextAttemptAt) this.#refresh().catch(() => undefined);
      return known;
    }
    if (this.#inflight === null && now < this.#nextAttemptAt) {
      throw new IssuerUnavailableError(`no keys known and the identity provider failed: ${this.#lastError ?? 'unknown error'}`);
    }
    return this.#wait(this.#inflight ?? this.#refresh());
  }

  /**
   * Keys for a token's kid/alg. An unknown kid triggers one refetch if the cooldown
   * (`rediscovery_lifetime`) has passed; concurrent misses share it.
   */
  async keysFor(kid: string | undefined, alg: string): Promise<IssuerKey[]> {
    const snapshot = await this.snapshot();
    const found = snapshot.keys.candidates(kid, alg);
    if (found.length > 0 || kid === undefined || snapshot.keys.hasKid(kid)) return found;
    const now = Date.now();
    if (this.#inflight === null && now < this.#nextAttemptAt) return [];
    this.#logger.info({ kid }, 'token names an unknown key id; refetching the issuer keys');
    try {
      const fresh = await this.#wait(this.#inflight ?? this.#refresh());
      return fresh.keys.candidates(kid, alg);
    } catch {
      return [];
    }
  }

  /** Forgets discovery and keys (admin `DELETE`); the next request rediscovers. */
  drop(): void {
    this.#snapshot = null;
    this.#fetchedAt = 0;
    this.#nextAttemptAt = 0;
    this.#failures = 0;
    this.generation++;
    this.updatedAt = Date.now();
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  #wait(promise: Promise<IssuerSnapshot>): Promise<IssuerSnapshot> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new IssuerUnavailableError(`identity provider did not answer within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs);
      timer.unref();
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  #refresh(): Promise<IssuerSnapshot> {
    this.#inflight ??= this.#load().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #load(): Promise<IssuerSnapshot> {
    const started = Date.now();
    try {
      const metadata = await discoverIssuer(this.#client, this.settings.issuer, { ...this.settings.discoveryHeaders });
      const uris = [this.settings.jwksEndpoint ?? metadata.jwks_uri, ...this.settings.extraJwksUris].filter((u): u is string => u !== undefined);
      if (uris.length === 0) throw new IdpHttpError('the discovery document has no jwks_uri');
      const keys: IssuerKey[] = [];
      for (const uri of uris) {
        const response = await this.#client.json(uri, { headers: { ...this.settings.discoveryHeaders } });
        if (response.status !== 200) throw new IdpHttpError(`${uri} answered ${response.status}`, response.status);
        const parsed = parseJwks(response.body);
        if (parsed.skipped.length > 0) this.#logger.warn({ jwks_uri: uri, skipped: parsed.skipped }, 'ignored unusable keys in a JWKS');
        keys.push(...parsed.keys);
      }
      if (keys.length === 0) throw new IdpHttpError('the JWKS holds no usable signature key');
      const snapshot: IssuerSnapshot = { metadata, keys: new KeySet(keys) };
      const recovered = this.#failures > 0;
      this.#snapshot = snapshot;
      this.#fetchedAt = Date.now();
      this.#failures = 0;
      this.#lastError = null;
      this.#nextAttemptAt = this.#fetchedAt + this.settings.rediscoveryMs;
      this.updatedAt = this.#fetchedAt;
      this.#logger.info({ kids: keys.map((k) => k.kid ?? null), ms: this.#fetchedAt - started, recovered }, 'issuer discovered and keys loaded');
      return snapshot;
    } catch (error) {
      this.#failures++;
      const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (this.#failures - 1), MAX_BACKOFF_MS);
      this.#nextAttemptAt = Date.now() + backoff;
      this.#lastError = error instanceof Error ? error.message : String(error);
      if (this.#snapshot !== null) {
        this.#logger.warn({ err_message: this.#lastError, retry_in_ms: backoff, failures: this.#failures }, 'identity provider unreachable; verifying with the keys already known');
      } else {
        this.#logger.error(
          { err_message: this.#lastError, retry_in_ms: backoff, failures: this.#failures },
          'identity provider unreachable and no keys are known: requests needing them get 500',
        );
      }
      throw new IssuerUnavailableError(this.#lastError);
    }
  }
}

function uuidFromHash(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// Module-level on purpose: shared across plugin instances and configuration reloads.
const issuers = new Map<string, Issuer>();

/** The key that decides sharing: the issuer plus everything that changes how it is fetched. */
function issuerKey(settings: IssuerSettings): string {
  const { trustedCaPems, ...rest } = settings;
  return JSON.stringify({ ...rest, ca: createHash('sha256').update(trustedCaPems.join('\n')).digest('hex') });
}

/** The shared issuer for these settings, counted as used until `releaseIssuer`. */
export function acquireIssuer(settings: IssuerSettings, logger: Logger): Issuer {
  const key = issuerKey(settings);
  let issuer = issuers.get(key);
  if (issuer === undefined) {
    issuer = new Issuer(key, settings, logger);
    issuers.set(key, issuer);
  }
  issuer.users++;
  return issuer;
}

/** Gives up one use; the last user closes the issuer's connections and forgets it. */
export async function releaseIssuer(issuer: Issuer): Promise<void> {
  issuer.users--;
  if (issuer.users > 0 || issuers.get(issuer.key) !== issuer) return;
  issuers.delete(issuer.key);
  await issuer.close();
}

/** Every issuer in use (admin API). */
export function listIssuers(): Issuer[] {
  return [...issuers.values()];
}

export function findIssuer(id: string): Issuer | undefined {
  return [...issuers.values()].find((i) => i.id === id);
}
