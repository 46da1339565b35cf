/**
 * The node's shared Redis (`--redis-url`, `PORTCULLIS_REDIS_URL`): one server, a Sentinel-watched
 * master, or a Redis Cluster, named by one URL so that a single setting says where every node's
 * shared short-lived state lives (the DPoP replay cache, the rate-limiting `cluster` policy).
 *
 *   redis://[[user]:password@]host[:port][/db]                 one server (rediss:// over TLS)
 *   redis-sentinel://[[user]:password@]host:port[,host:port…]/master[/db]   Sentinel (rediss-sentinel://)
 *   redis-cluster://[[user]:password@]host:port[,host:port…]   Redis Cluster seed nodes (rediss-cluster://)
 *
 * The password may be left out of the URL and given as `--redis-password` / `PORTCULLIS_REDIS_PASSWORD`
 * (a flag shows in `ps`). Sentinels that need a password of their own take `?sentinel_password=`.
 */
import type { FlagSpec, FlagValues } from '../../cli/flags.js';

export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
}

export type RedisTopology =
  | { readonly kind: 'standalone'; readonly endpoint: RedisEndpoint; readonly db: number }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly RedisEndpoint[]; readonly master: string; readonly db: number; readonly sentinelPassword: string | null }
  | { readonly kind: 'cluster'; readonly seeds: readonly RedisEndpoint[] };

/** What fails when Redis cannot answer the replay cache: `closed` refuses the proof (401), `local` uses the node's own cache. */
export type ReplayFallback = 'closed' | 'local';

export interface RedisSettings {
  readonly topology: RedisTopology;
  readonly tls: boolean;
  readonly username: string | null;
  readonly password: string | null;
  /** Hard deadline of connecting and of every call, ms. */
  readonly timeoutMs: number;
  readonly replayFallback: ReplayFallback;
  /** The URL without its password, for logs and /status. */
  readonly display: string;
}

export const REDIS_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'redis-url': { type: 'string', description: 'Redis shared by the nodes (DPoP replay cache, rate-limiting policy cluster): redis[s]://, redis[s]-sentinel://, redis[s]-cluster://', env: true },
  'redis-password': { type: 'string', description: 'Password for --redis-url (prefer PORTCULLIS_REDIS_PASSWORD: a flag shows in ps)', env: true },
  'redis-timeout': { type: 'string', description: 'Deadline of connecting to Redis and of each call, ms', defaultText: '500', env: true },
  'replay-cache-fallback': { type: 'string', description: 'closed|local: when Redis cannot answer, refuse DPoP proofs (401) or check them in the node-local cache', defaultText: 'closed', env: true },
};

const SCHEMES: Record<string, { kind: RedisTopology['kind']; tls: boolean }> = {
  'redis:': { kind: 'standalone', tls: false },
  'rediss:': { kind: 'standalone', tls: true },
  'redis-sentinel:': { kind: 'sentinel', tls: false },
  'rediss-sentinel:': { kind: 'sentinel', tls: true },
  'redis-cluster:': { kind: 'cluster', tls: false },
  'rediss-cluster:': { kind: 'cluster', tls: true },
};

const DEFAULT_PORT = { standalone: 6379, sentinel: 26379, cluster: 6379 } as const;

function endpoints(list: string, kind: RedisTopology['kind']): RedisEndpoint[] {
  return list.split(',').map((item) => {
    // [v6]:port or host:port or host
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
    const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(item);
    const match = bracketed ?? plain;
    if (match === null || match[1] === undefined || match[1] === '') throw new TypeError(`--redis-url: '${item}' is not host[:port]`);
    const port = match[2] === undefined ? DEFAULT_PORT[kind] : Number(match[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`--redis-url: port '${match[2] ?? ''}' is not 1 to 65535`);
    return { host: match[1], port };
  });
}

function database(segment: string | undefined): number {
  if (segment === undefined || segment === '') return 0;
  const db = Number(segment);
  if (!Number.isInteger(db) || db < 0) throw new TypeError(`--redis-url: database '${segment}' is not a number`);
  return db;
}

/** `url` for a message: what comes before the last `@` may hold a password, whatever the URL's shape. */
function withoutCredentials(url: string): string {
  const at = url.lastIndexOf('@');
  return at < 0 ? url : `…@${url.slice(at + 1)}`;
}

/** Parses `--redis-url` (comma-separated hosts are outside the URL standard, so this is not `new URL`). */
export function parseRedisUrl(url: string): Omit<RedisSettings, 'timeoutMs' | 'replayFallback'> {
  const scheme = /^([a-z-]+:)\/\/(.*)$/i.exec(url);
  const known = scheme === null ? undefined : SCHEMES[scheme[1]!.toLowerCase()];
  if (scheme === null || known === undefined) throw new TypeError(`--redis-url: '${withoutCredentials(url)}' does not start with one of ${Object.keys(SCHEMES).map((s) => `${s}//`).join(', ')}`);
  let rest = scheme[2]!;
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let username: string | null = null;
  let password: string | null = null;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
    username = user === '' ? null : user;
    password = colon >= 0 ? decodeURIComponent(userinfo.slice(colon + 1)) : null;
  }
  const [hosts = '', ...path] = rest.split('/');
  const found = endpoints(hosts, known.kind);
  const params = new URLSearchParams(query);
  let topology: RedisTopology;
  if (known.kind === 'standalone') {
    if (found.length !== 1) throw new TypeError('--redis-url: redis:// names one server; use redis-sentinel:// or redis-cluster:// for several');
    topology = { kind: 'standalone', endpoint: found[0]!, db: database(path[0]) };
  } else if (known.kind === 'sentinel') {
    const master = path[0];
    if (master === undefined || master === '') throw new TypeError("--redis-url: redis-sentinel:// needs the master's name as its path (redis-sentinel://host:26379/mymaster)");
    topology = { kind: 'sentinel', sentinels: found, master: decodeURIComponent(master), db: database(path[1]), sentinelPassword: params.get('sentinel_password') };
  } else {
    if (path.some((p) => p !== '')) throw new TypeError('--redis-url: a Redis Cluster has only database 0; redis-cluster:// takes no path');
    topology = { kind: 'cluster', seeds: found };
  }
  const display = `${scheme[1]!.toLowerCase()}//${username === null ? '' : `${username}@`}${hosts}${path.length > 0 ? `/${path.join('/')}` : ''}`;
  return { topology, tls: known.tls, username, password, display };
}

/** The settings from parsed `REDIS_FLAGS` values; null without `--redis-url`. */
export function redisSettings(values: FlagValues): RedisSettings | null {
  const url = values['redis-url'];
  if (typeof url !== 'string' || url === '') return null;
  const parsed = parseRedisUrl(url);
  const flagPassword = values['redis-password'];
  const timeout = values['redis-timeout'] ?? '500';
  const timeoutMs = Number(timeout);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new TypeError(`--redis-timeout must be a positive integer of ms, not '${String(timeout)}'`);
  const fallback = values['replay-cache-fallback'] ?? 'closed';
  if (fallback !== 'closed' && fallback !== 'local') throw new TypeError(`--replay-cache-fallback must be closed or local, not '${String(fallback)}'`);
  return {
    ...parsed,
    password: typeof flagPassword === 'string' && flagPassword !== '' ? flagPassword : parsed.password,
    timeoutMs,
    replayFallback: fallback,
  };
}
