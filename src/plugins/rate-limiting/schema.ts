import { Type, type Static } from '@sinclair/typebox';
import { atLeastOneOf } from '../../config/at-least-one-of.js';
import type { ConfigError } from '../../config/types.js';
import type { PluginSchema } from '../../pipeline/plugin.js';
import { PERIODS } from './windows.js';

const Limit = (period: string) =>
  Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()], { default: null, description: `The number of HTTP requests that can be made per ${period}.` });

const NullableString = (description: string, options: Record<string, unknown> = {}) => Type.Union([Type.String({ minLength: 1, ...options }), Type.Null()], { default: null, description });

/** Kong's redis record (kong/tools/redis/schema.lua), shared by the plugins that keep state in Redis. */
export const redisRecord = Type.Object(
  {
    host: NullableString('Redis host; required with policy redis.'),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 6379, description: 'Redis port.' }),
    timeout: Type.Integer({ minimum: 0, maximum: 2147483646, default: 2000, description: 'Deadline of each Redis call and of connecting, in ms.' }),
    username: NullableString('Username for Redis ACL authentication (Redis 6+); unset: no username.'),
    password: Type.Union([Type.String(), Type.Null()], { default: null, description: 'Password for Redis AUTH; unset: no AUTH.' }),
    database: Type.Integer({ default: 0, description: 'Redis database number.' }),
    ssl: Type.Boolean({ default: false, description: 'Connect to Redis over TLS.' }),
    ssl_verify: Type.Boolean({ default: false, description: "Verify the Redis server's certificate (against the system CAs and --trusted-certificate)." }),
    server_name: NullableString('Server name for SNI and certificate verification.'),
  },
  { additionalProperties: false, default: {} },
);

export type RedisConfig = Static<typeof redisRecord>;

/** Kong's rate-limiting (kong/plugins/rate-limiting/schema.lua). */
export const rateLimitingConfig = Type.Object(
  {
    second: Limit('second'),
    minute: Limit('minute'),
    hour: Limit('hour'),
    day: Limit('day'),
    month: Limit('month'),
    year: Limit('year'),
    limit_by: Type.Union(
      ['consumer', 'credential', 'ip', 'service', 'header', 'path'].map((v) => Type.Literal(v)),
      { default: 'consumer', description: 'What the limits count by; each falls back to the client IP when the request has none.' },
    ),
    header_name: NullableString('The header whose value is counted, with limit_by header.', { pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', errorMessage: 'bad header name' }),
    path: NullableString('The path counted, with limit_by path (requests to other paths count by client IP).', { pattern: '^/', errorMessage: 'should start with: /' }),
    policy: Type.Union([Type.Literal('local'), Type.Literal('cluster'), Type.Literal('redis')], {
      default: 'local',
      description: "Where the counters are kept: 'local' (the node, shared by its workers) or 'redis' (shared by every node).",
    }),
    fault_tolerant: Type.Boolean({ default: true, description: 'Proxy requests when the counters cannot be reached (true), or answer 500 (false).' }),
    redis: redisRecord,
    hide_client_headers: Type.Boolean({ default: false, description: 'Send no X-RateLimit-*, RateLimit-* or Retry-After headers.' }),
    error_code: Type.Number({ exclusiveMinimum: 0, default: 429, description: 'Status of a request over the limit.' }),
    error_message: Type.String({ default: 'API rate limit exceeded', description: 'Message of a request over the limit.' }),
    sync_rate: Type.Number({ default: -1, description: 'With redis: seconds between syncs of the counters (-1: every request, synchronously).' }),
  },
  { additionalProperties: false },
);

export type RateLimitingConfig = Static<typeof rateLimitingConfig>;

/** Kong's deprecated flat redis_* fields, still in older files: each lands in the `redis` record. */
const REDIS_SHORTHANDS = ['host', 'port', 'password', 'username', 'ssl', 'ssl_verify', 'server_name', 'timeout', 'database'] as const;

const SYNC_RATE_REALTIME = -1;

function checkRateLimiting(c: RateLimitingConfig, at: string): ConfigError[] {
  const errors: ConfigError[] = [];
  const noPeriod = atLeastOneOf(c, PERIODS, at);
  if (noPeriod !== null) errors.push(noPeriod);
  // Kong's validate_periods_order: a longer period cannot have a lower limit.
  PERIODS.forEach((lower, i) => {
    const v1 = c[lower];
    if (v1 === null) return;
    for (const upper of PERIODS.slice(i + 1)) {
      const v2 = c[upper];
      if (v2 !== null && v2 < v1) errors.push({ path: `${at}.${upper}`, message: `The limit for ${upper}(${v2.toFixed(1)}) cannot be lower than the limit for ${lower}(${v1.toFixed(1)})` });
    }
  });
  if (c.policy !== 'redis' && c.sync_rate !== SYNC_RATE_REALTIME) errors.push({ path: `${at}.sync_rate`, message: 'sync_rate can only be used with the redis policy' });
  if (c.policy === 'redis' && c.sync_rate !== SYNC_RATE_REALTIME && c.sync_rate < 0.02) errors.push({ path: `${at}.sync_rate`, message: 'sync_rate must be greater than 0.02, or -1 to disable' });
  if (c.policy === 'redis' && c.redis.host === null) errors.push({ path: `${at}.redis.host`, message: 'required field missing (policy redis)' });
  if (c.limit_by === 'header' && c.header_name === null) errors.push({ path: `${at}.header_name`, message: 'required field missing (limit_by header)' });
  if (c.limit_by === 'path' && c.path === null) errors.push({ path: `${at}.path`, message: 'required field missing (limit_by path)' });
  return errors;
}

export const rateLimitingSchema: PluginSchema = {
  name: 'rate-limiting',
  configSchema: rateLimitingConfig,
  // Kong Enterprise lets it be scoped to a consumer group (its schema has a `consumer_group` field).
  scopes: { global: true, service: true, route: true, consumer: true, consumerGroup: true },
  // typedefs.protocols_http
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  shorthands: REDIS_SHORTHANDS.map((field) => ({ name: `redis_${field}`, path: ['redis', field] })),
  checkConfig(plugin, index) {
    return checkRateLimiting(plugin.config as RateLimitingConfig, `plugins[${index}].config`);
  },
};
