// A small scripted OpenID issuer for faults the development IdP (oidc-provider) cannot produce on
// demand: being down, answering slowly or stalling mid-body, answering garbage, naming another
// issuer, publishing a chosen key set. Plain HTTP on 127.0.0.1 (the plugin accepts http issuers), one
// server holding any number of realms (`/realms/NAME`), each with its own keys (ES256, made with
// jose), its own fault switches and counters of every request it got. `stop()` closes the port and
// every connection (the gateway then sees ECONNREFUSED); `start()` listens again on the same port.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** What an endpoint does with the next requests. */
export type Fault =
  /** Answers correctly. */
  | { readonly kind: 'ok' }
  /** Answers correctly, but only after `ms` (nothing is sent before). */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Sends the head and half of the body at once, the rest after `ms`. */
  | { readonly kind: 'stall-body'; readonly ms: number }
  /** Answers this instead of the document. */
  | { readonly kind: 'respond'; readonly status: number; readonly contentType: string; readonly body: string | Buffer }
  /** Destroys the connection as soon as the request arrived. */
  | { readonly kind: 'reset' };

export const ok: Fault = { kind: 'ok' };

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function newSigningKey(kid = `k-${randomUUID().slice(0, 8)}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
}

export interface SignOptions {
  /** The `kid` header; default the signing key's. */
  kid?: string;
  /** Default the realm's active key. */
  key?: SigningKey;
  /** Seconds until `exp`; default 300. */
  expiresIn?: number;
}

export class ScriptedRealm {
  readonly name: string;
  readonly #server: ScriptedIssuer;
  discoveryFault: Fault = ok;
  jwksFault: Fault = ok;
  /** The `issuer` the discovery document names; null: the true one. */
  advertisedIssuer: string | null = null;
  /** Keys in the JWKS. */
  published: SigningKey[] = [];
  /** The key new tokens are signed with. */
  active!: SigningKey;
  /** Requests received, by endpoint. */
  readonly hits = { discovery: 0, jwks: 0, other: 0 };
  /** `performance.timeOrigin`-free wall-clock ms of every JWKS request, in order. */
  readonly jwksTimes: number[] = [];

  constructor(name: string, server: ScriptedIssuer) {
    this.name = name;
    this.#server = server;
  }

  get issuer(): string {
    return `${this.#server.origin}/realms/${this.name}`;
  }

  get jwksUri(): string {
    return `${this.issuer}/protocol/openid-connect/certs`;
  }

  discoveryDocument(): Record<string, unknown> {
    return {
      issuer: this.advertisedIssuer ?? this.issuer,
      jwks_uri: this.jwksUri,
      token_endpoint: `${this.issuer}/protocol/openid-connect/token`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    };
  }

  jwks(): Record<string, unknown> {
    return { keys: this.published.map((k) => k.publicJwk) };
  }

  /**
   * A new signing key. `keepOld`: the previous keys stay published (a graceful rotation);
   * otherwise only the new key is (the old ones are withdrawn at once).
   */
  async rotate(options: { keepOld: boolean }): Promise<SigningKey> {
    const key = await newSigningKey();
    this.published = options.keepOld ? [...this.published, key] : [key];
    this.active = key;
    return key;
  }

  /** A JWT for this realm (`iss`, `sub`, `iat`, `exp`, a fresh `jti`, plus `claims`). */
  sign(claims: Record<string, unknown> = {}, options: SignOptions = {}): Promise<string> {
    const key = options.key ?? this.active;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, sub: 'resilience-client', iat: now, exp: now + (options.expiresIn ?? 300), jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: options.kid ?? key.kid })
      .sign(key.privateKey);
  }
}

export class ScriptedIssuer {
  #port = 0;
  readonly #realms = new Map<string, ScriptedRealm>();
  #server: Server | null = null;
  /** Every request, in arrival order (method and path). */
  readonly requests: Array<{ at: number; method: string; path: string }> = [];

  private constructor() {}

  /** Starts listening on `port` (0: any), unless `listening` is false (then the port is only reserved: nothing answers on it). */
  static async create(options: { port?: number; listening?: boolean } = {}): Promise<ScriptedIssuer> {
    const issuer = new ScriptedIssuer();
    await issuer.#listen(options.port ?? 0);
    if (options.listening === false) await issuer.stop();
    return issuer;
  }

  get port(): number {
    return this.#port;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get listening(): boolean {
    return this.#server !== null;
  }

  /** The realm `name`, made (with one fresh key) on first use. */
  async realm(name: string): Promise<ScriptedRealm> {
    let realm = this.#realms.get(name);
    if (realm === undefined) {
      realm = new ScriptedRealm(name, this);
      const key = await newSigningKey();
      realm.published = [key];
      realm.active = key;
      this.#realms.set(name, realm);
    }
    return realm;
  }

  /** Goes down: the port is closed and every open connection (kept-alive ones too) destroyed. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === null) return;
    this.#server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Comes back on the same port. */
  async start(): Promise<void> {
    if (this.#server !== null) return;
    await this.#listen(this.port);
  }

  async #listen(port: number): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    this.requests.push({ at: Date.now(), method: req.method ?? 'GET', path });
    const match = /^\/realms\/([^/]+)(\/.*)$/.exec(path);
    const realm = match === null ? undefined : this.#realms.get(match[1]!);
    if (realm === undefined || match === null) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
    const rest = match[2];
    if (rest === '/.well-known/openid-configuration') {
      realm.hits.discovery++;
      return answer(req, res, realm.discoveryFault, () => realm.discoveryDocument());
    }
    if (rest === '/protocol/openid-connect/certs') {
      realm.hits.jwks++;
      realm.jwksTimes.push(Date.now());
      return answer(req, res, realm.jwksFault, () => realm.jwks());
    }
    realm.hits.other++;
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
  }
}

function answer(req: IncomingMessage, res: ServerResponse, fault: Fault, document: () => unknown): void {
  const text = (): string => JSON.stringify(document());
  const head = (length: number) => ({ 'content-type': 'application/json', 'content-length': String(length) });
  let timer: NodeJS.Timeout | undefined;
  res.once('close', () => clearTimeout(timer));
  switch (fault.kind) {
    case 'ok': {
      const body = text();
      res.writeHead(200, head(Buffer.byteLength(body))).end(body);
      return;
    }
    case 'delay':
      timer = setTimeout(() => {
        if (res.destroyed) return;
        const body = text();
        res.writeHead(200, head(Buffer.byteLength(body))).end(body);
      }, fault.ms);
      return;
    case 'stall-body': {
      const body = Buffer.from(text());
      const half = Math.floor(body.length / 2);
      res.writeHead(200, head(body.length));
      res.write(body.subarray(0, half));
      timer = setTimeout(() => {
        if (!res.destroyed) res.end(body.subarray(half));
      }, fault.ms);
      return;
    }
    case 'respond':
      res.writeHead(fault.status, { 'content-type': fault.contentType, 'content-length': String(Buffer.byteLength(fault.body)) }).end(fault.body);
      return;
    case 'reset':
      req.socket.destroy();
      return;
  }
}
