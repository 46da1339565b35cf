// The flood of the soak's second part, in a process of its own so that making it (JWTs, TLS
// handshakes) does not slow down the process that times the valid clients. Forked by soak-run.ts
// with an IPC channel: it answers `ready`, floods on `start` for `durationMs`, sends `result` and
// leaves. Two floods at once:
// - invalid tokens: keep-alive connections with the tutorial client certificate, every request a
//   new, distinct, well-formed JWT (the IdP's real header and claims, cnf included) whose signature
//   is random bytes, or whose `kid` is random;
// - new TLS handshakes: a new connection per request (`agent: false`, `Connection: close`, no
//   session reuse), half with the client certificate and half without, each with an invalid token.
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface FloodConfig {
  /** https://127.0.0.1:PORT of the gateway's TLS proxy listener. */
  origin: string;
  path: string;
  /** Verifies the gateway's server certificate. */
  caPem: string;
  /** The tutorial client's certificate and key. */
  certPem: string;
  keyPem: string;
  /** Protected header of a real token from the IdP (alg, typ, kid). */
  header: Record<string, unknown>;
  /** Claims of a real token from the IdP; `jti`, `iat`, `exp` are replaced per token. */
  claims: Record<string, unknown>;
  durationMs: number;
  /** Keep-alive connections of the invalid-token flood (each one request at a time, back to back). */
  tokenConnections: number;
  /** Concurrent new-connection-per-request loops of the handshake flood. */
  handshakeConcurrency: number;
}

/** What one part of the flood sent and got. */
export interface FloodCounts {
  requests: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
  /** Requests that got no response, by error code. */
  errors: Record<string, number>;
  /** Distinct tokens sent (each request carries a fresh one). */
  tokens: number;
}

export interface FloodResult {
  durationMs: number;
  /** CPU the flood process used (user + system), to tell a gateway bottleneck from a flood one. */
  cpuSeconds: number;
  invalidTokens: FloodCounts;
  handshakes: FloodCounts & { withCertificate: number };
}

export type FloodMessage = { type: 'ready' } | { type: 'result'; result: FloodResult } | { type: 'failed'; error: string };

const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');

/** A new well-formed JWT that cannot verify: random signature bytes, or (every other one) a random kid. */
function invalidToken(config: FloodConfig, n: number): string {
  const now = Math.floor(Date.now() / 1000);
  const header = n % 2 === 0 ? config.header : { ...config.header, kid: randomUUID() };
  const claims = { ...config.claims, iat: now, exp: now + 60, jti: randomUUID() };
  // 256 bytes: the size of a real RS256 signature with a 2048-bit key.
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}.${b64url(randomBytes(256))}`;
}

const newCounts = (): FloodCounts => ({ requests: 0, statuses: {}, errors: {}, tokens: 0 });
const bump = (record: Record<string, number>, key: string): void => {
  record[key] = (record[key] ?? 0) + 1;
};
const errorCode = (error: unknown): string => {
  const e = error as { code?: unknown; name?: unknown };
  return typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'unknown';
};

async function tokenFlood(config: FloodConfig, until: number, counts: FloodCounts): Promise<void> {
  const pool = new Pool(config.origin, {
    connections: config.tokenConnections,
    connect: { ca: config.caPem, cert: config.certPem, key: config.keyPem },
  });
  let n = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < until) {
      const token = invalidToken(config, n++);
      counts.tokens++;
      counts.requests++;
      try {
        const res = await pool.request({ path: config.path, method: 'GET', headers: { authorization: `Bearer ${token}` } });
        await res.body.dump();
        bump(counts.statuses, String(res.statusCode));
      } catch (error) {
        bump(counts.errors, errorCode(error));
      }
    }
  };
  await Promise.all(Array.from({ length: config.tokenConnections }, lane));
  await pool.close();
}

function oneHandshake(config: FloodConfig, token: string, withCertificate: boolean): Promise<number> {
  const url = new URL(config.path, config.origin);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'GET',
        headers: { authorization: `Bearer ${token}`, connection: 'close' },
        ca: config.caPem,
        ...(withCertificate ? { cert: config.certPem, key: config.keyPem } : {}),
        // No agent: a new TCP connection and a full TLS handshake (no session cache) for every request.
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end();
  });
}

async function handshakeFlood(config: FloodConfig, until: number, counts: FloodCounts & { withCertificate: number }): Promise<void> {
  let n = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < until) {
      const i = n++;
      const withCertificate = i % 2 === 0;
      if (withCertificate) counts.withCertificate++;
      counts.tokens++;
      counts.requests++;
      try {
        bump(counts.statuses, String(await oneHandshake(config, invalidToken(config, i), withCertificate)));
      } catch (error) {
        bump(counts.errors, errorCode(error));
      }
    }
  };
  await Promise.all(Array.from({ length: config.handshakeConcurrency }, lane));
}

export async function flood(config: FloodConfig): Promise<FloodResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const until = started + config.durationMs;
  const invalidTokens = newCounts();
  const handshakes = { ...newCounts(), withCertificate: 0 };
  await Promise.all([tokenFlood(config, until, invalidTokens), handshakeFlood(config, until, handshakes)]);
  const used = process.cpuUsage(cpu);
  return { durationMs: performance.now() - started, cpuSeconds: (used.user + used.system) / 1e6, invalidTokens, handshakes };
}

// Run as a forked child: wait for the configuration, flood, report, leave. A parent that goes away
// takes the flood with it.
if (process.send !== undefined) {
  /** Sends `message`, then closes the channel (which ends this process). */
  const reportAndLeave = (message: FloodMessage): void => {
    process.send?.(message, undefined, {}, () => process.disconnect());
  };
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: { type: string; config?: FloodConfig }) => {
    if (message.type !== 'start' || message.config === undefined) return;
    flood(message.config).then(
      (result) => reportAndLeave({ type: 'result', result }),
      (error: unknown) => reportAndLeave({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  process.send({ type: 'ready' } satisfies FloodMessage);
}
