// startIdp: the development IdP's HTTPS listener. Node's TLS asks every client for a certificate
// (requestCert, never rejecting: the token endpoint decides), and the oidc-provider instance
// answers below /realms/<realm>, Keycloak's layout, so the Kong tutorial's URLs work unchanged.
import { createPrivateKey, randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { checkScopes, checkTtl, defaultIdpClients, resolveClients, type ResolvedClient } from './clients.js';
import { activeKey, loadOrCreateSigningKeys, nextExpiry, providerJwks, publicJwks, rotateSigningKeys, signingKeysFile, type StoredKeys } from './keys.js';
import { createProvider, keycloakRoutes } from './provider.js';
import { createTokenStore } from './token-store.js';
import type { IdpEndpoints, IdpServer, StartIdpOptions } from './types.js';

/** Said once at every start, by the API and the CLI. */
export const developmentNotice =
  'Portcullis development identity provider: for local development and tests only, not for production ' +
  '(fixed demo secrets, tokens in memory). Point the gateway at Keycloak or another real IdP in production.';

const defaults = {
  host: 'localhost',
  port: 9443,
  realm: 'master',
  accessTokenTtlSeconds: 60,
  audience: 'urn:portcullis:api',
  scopes: ['read', 'write'],
  keyGraceSeconds: 86_400,
  clockToleranceSeconds: 5,
} as const;

function checkOptions(options: StartIdpOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('startIdp: options must be an object');
  if (typeof options.dir !== 'string' || options.dir === '') throw new TypeError('dir must be a directory path');
  const tls = options.tls as Partial<StartIdpOptions['tls']> | undefined;
  if (typeof tls?.certPem !== 'string' || typeof tls.keyPem !== 'string') throw new TypeError('tls.certPem and tls.keyPem must be PEM strings');
  // Without CAs Node would fall back to its public root store for client certificates: refuse instead.
  if (!Array.isArray(tls.caPems) || tls.caPems.length === 0 || tls.caPems.some((p) => typeof p !== 'string' || !p.includes('BEGIN CERTIFICATE'))) {
    throw new TypeError('tls.caPems must list at least one trusted CA certificate (PEM)');
  }
  if (options.realm !== undefined && !/^[A-Za-z0-9._-]+$/.test(options.realm)) throw new TypeError(`realm must be letters, digits, '.', '_' or '-', got '${options.realm}'`);
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535)) {
    throw new TypeError(`port must be an integer from 0 to 65535, got ${String(options.port)}`);
  }
  if (options.accessTokenTtlSeconds !== undefined) checkTtl(options.accessTokenTtlSeconds, 'accessTokenTtlSeconds');
  if (options.keyGraceSeconds !== undefined && !(Number.isInteger(options.keyGraceSeconds) && options.keyGraceSeconds >= 0)) {
    throw new TypeError('keyGraceSeconds must be a non-negative integer');
  }
  if (options.scopes !== undefined) checkScopes(options.scopes, 'scopes');
  if (options.audience !== undefined && (typeof options.audience !== 'string' || options.audience === '')) throw new TypeError('audience must be a non-empty string');
}

/** `host` as written in a URL: IPv6 in brackets, wildcard addresses as localhost. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function endpointsOf(issuer: string): IdpEndpoints {
  return {
    discovery: `${issuer}/.well-known/openid-configuration`,
    token: `${issuer}${keycloakRoutes.token}`,
    jwks: `${issuer}${keycloakRoutes.jwks}`,
    introspection: `${issuer}${keycloakRoutes.introspection}`,
    revocation: `${issuer}${keycloakRoutes.revocation}`,
  };
}

function notFound(res: ServerResponse, prefix: string): void {
  const body = JSON.stringify({ error: 'not_found', error_description: `this identity provider answers below ${prefix}` });
  res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts the development IdP; resolves once it listens. */
export async function startIdp(options: StartIdpOptions): Promise<IdpServer> {
  checkOptions(options);
  const log = options.log ?? (() => {});
  const host = options.host ?? defaults.host;
  const realm = options.realm ?? defaults.realm;
  const graceSeconds = options.keyGraceSeconds ?? defaults.keyGraceSeconds;
  const clockToleranceSeconds = options.clockToleranceSeconds ?? defaults.clockToleranceSeconds;
  const audience = options.audience ?? defaults.audience;
  let ttl: number = options.accessTokenTtlSeconds ?? defaults.accessTokenTtlSeconds;
  const clients: ResolvedClient[] = resolveClients(options.clients ?? defaultIdpClients(), {
    audience,
    scopes: [...(options.scopes ?? defaults.scopes)],
  });
  let keys: StoredKeys = await loadOrCreateSigningKeys(options.dir, graceSeconds);
  const tokenStore = createTokenStore(clockToleranceSeconds);
  const prefix = `/realms/${realm}`;

  let handle: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  const server: Server = createServer(
    {
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      ca: options.tls.caPems,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (req, res) => {
      const url = req.url ?? '/';
      if (handle === undefined || !(url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`))) {
        notFound(res, prefix);
        return;
      }
      // Express-style mounting, which oidc-provider understands: it builds its URLs from
      // originalUrl minus url (or baseUrl), and routes on url.
      Object.assign(req, { originalUrl: url, baseUrl: prefix });
      const rest = url.slice(prefix.length);
      req.url = rest.startsWith('/') ? rest : `/${rest}`;
      handle(req, res).catch((error: unknown) => {
        log(`request failed: ${String(error)}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    },
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? defaults.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `https://${options.publicHost ?? urlHost(host)}:${port}${prefix}`;
  const audiences = [audience];
  // One secret for the IdP's life: key rotation rebuilds the provider, nonces it handed out stay good.
  const dpopNonceSecret = options.dpopNonces === true ? randomBytes(32) : null;

  const build = async (): Promise<void> => {
    const provider = createProvider({
      issuer,
      clients,
      jwks: providerJwks(keys),
      tokenStore,
      accessTokenTtl: () => ttl,
      audiences,
      clockToleranceSeconds,
      dpopNonceSecret,
      log,
    });
    // oidc-provider checks static client metadata on first use; do it now so a bad clients file
    // fails the start instead of the first token request.
    for (const c of clients) {
      try {
        await provider.Client.find(c.client_id);
      } catch (error) {
        const e = error as { error_description?: string; message: string };
        throw new TypeError(`client '${c.client_id}': ${e.error_description ?? e.message}`);
      }
    }
    handle = provider.callback();
  };
  try {
    await build();
  } catch (error) {
    server.close();
    throw error;
  }

  const kidsOf = (stored: StoredKeys) => providerJwks(stored).keys.map((k) => String(k['kid'])).join(',');
  let expiryTimer: NodeJS.Timeout | undefined;
  const scheduleExpiry = (): void => {
    clearTimeout(expiryTimer);
    const at = nextExpiry(keys, graceSeconds);
    if (at === undefined) return;
    // setTimeout holds at most ~24.8 days; a later expiry is picked up by an earlier wake-up.
    expiryTimer = setTimeout(() => void reloadKeys().catch(() => {}), Math.min(Math.max(at - Date.now(), 0) + 50, 2 ** 31 - 1));
    expiryTimer.unref();
  };
  const apply = async (next: StoredKeys, why: string): Promise<void> => {
    const previous = keys;
    keys = next;
    if (kidsOf(next) !== kidsOf(previous)) {
      try {
        await build();
      } catch (error) {
        keys = previous;
        throw error;
      }
      const signing = next.keys.filter((k) => k.retired_at === null).map((k) => `${k.jwk.alg} ${k.jwk.kid}`);
      log(`signing keys ${why}: signing with ${signing.join(', ')}; publishing ${next.keys.length} keys`);
    }
    scheduleExpiry();
  };
  // Reloads are serialised so a watch event and a rotation cannot interleave their swaps.
  let queue: Promise<void> = Promise.resolve();
  const serial = (task: () => Promise<void>): Promise<void> => {
    const run = queue.then(task);
    queue = run.catch(() => {});
    return run;
  };
  const reloadKeys = (): Promise<void> =>
    serial(async () => {
      try {
        await apply(await loadOrCreateSigningKeys(options.dir, graceSeconds), 'reloaded');
      } catch (error) {
        log(`signing keys not reloaded, keeping the current ones: ${(error as Error).message}`);
        throw error;
      }
    });
  scheduleExpiry();

  let watcher: FSWatcher | undefined;
  if (options.watchKeys !== false) {
    let debounce: NodeJS.Timeout | undefined;
    try {
      watcher = watch(options.dir, { persistent: false }, (_event, filename) => {
        if (filename !== null && filename !== signingKeysFile) return;
        clearTimeout(debounce);
        debounce = setTimeout(() => void reloadKeys().catch(() => {}), 100);
        debounce.unref();
      });
      watcher.on('error', () => watcher?.close());
    } catch {
      // No file watching here (some network file systems): SIGHUP or reloadKeys() still work.
      watcher = undefined;
    }
  }

  log(developmentNotice);
  log(`issuer ${issuer}`);

  let closed: Promise<void> | undefined;
  return {
    issuer,
    url: `https://${options.publicHost ?? urlHost(host)}:${port}`,
    port,
    realm,
    endpoints: endpointsOf(issuer),
    clients,
    rotateKeys: () => serial(async () => apply(await rotateSigningKeys(options.dir, graceSeconds), 'rotated')),
    reloadKeys,
    publicJwks: () => publicJwks(keys),
    setAccessTokenTtl(seconds: number) {
      ttl = checkTtl(seconds, 'seconds');
    },
    async signJwt(payload, signOptions = {}) {
      const alg = signOptions.alg ?? 'RS256';
      const key = activeKey(keys, alg);
      if (key === undefined) throw new TypeError(`no active ${alg} key`);
      return new SignJWT(payload)
        .setProtectedHeader({ alg, typ: 'at+jwt', kid: key.jwk.kid, ...signOptions.header })
        .sign(createPrivateKey({ key: key.jwk, format: 'jwk' }));
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        watcher?.close();
        clearTimeout(expiryTimer);
        server.close(() => resolve());
        server.closeAllConnections();
        tokenStore.clear();
      });
      return closed;
    },
  };
}
