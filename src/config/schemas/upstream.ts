/**
 * Upstreams (a virtual host name with load-balanced targets) and targets, as written in a decK file;
 * fields, defaults and ranges as Kong 3.x `kong/db/schema/entities/{upstreams,targets}.lua`.
 * Cross-field rules (the hash fields, the `algorithm`/`hash_on` shorthand, name and target syntax)
 * are in `checks/upstream.ts`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EntityReference, StringEnum, Tags, Uuid } from './common.js';

export const UPSTREAM_ALGORITHMS = ['round-robin', 'consistent-hashing', 'least-connections', 'latency'] as const;
export const HASH_ON = ['none', 'consumer', 'ip', 'header', 'cookie', 'path', 'query_arg', 'uri_capture'] as const;
export const CHECK_TYPES = ['tcp', 'http', 'https', 'grpc', 'grpcs'] as const;

/** Kong's `seconds`: a number of seconds, 0 to 65535 (fractions allowed). */
const Seconds = (fallback: number, description: string) => Type.Number({ minimum: 0, maximum: 65535, default: fallback, description });
/** Kong's counters: 0 (off) to 255. */
const Counter = (description: string) => Type.Integer({ minimum: 0, maximum: 255, default: 0, description });
const Statuses = (fallback: readonly number[], description: string) =>
  Type.Array(Type.Integer({ minimum: 100, maximum: 999 }), { default: [...fallback], description });

const ACTIVE_HEALTHY_STATUSES = [200, 302];
const ACTIVE_UNHEALTHY_STATUSES = [429, 404, 500, 501, 502, 503, 504, 505];
const PASSIVE_HEALTHY_STATUSES = [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308];
const PASSIVE_UNHEALTHY_STATUSES = [429, 500, 503];

const record = <T extends Parameters<typeof Type.Object>[0]>(fields: T, description: string) =>
  Type.Object(fields, { additionalProperties: false, default: {}, description });

const ActiveChecks = record(
  {
    type: StringEnum(CHECK_TYPES, { default: 'http', description: 'How targets are probed: tcp, http, https (grpc, grpcs: not yet).' }),
    timeout: Seconds(1, 'Seconds a probe may take.'),
    concurrency: Type.Integer({ minimum: 1, maximum: 2147483648, default: 10, description: 'Probes run at once.' }),
    http_path: Type.String({ minLength: 1, pattern: '^/', default: '/', errorMessage: "must start with '/'", description: 'Path of an http(s) probe.' }),
    https_sni: Type.Optional(Type.String({ minLength: 1, description: 'SNI of an https probe (default: the target host).' })),
    https_verify_certificate: Type.Boolean({ default: true, description: "Verify the target's certificate in an https probe." }),
    headers: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String()), { description: 'Headers sent with every probe: name → values.' }),
    ),
    healthy: record(
      {
        interval: Seconds(0, 'Seconds between probes of a healthy target; 0 = none.'),
        http_statuses: Statuses(ACTIVE_HEALTHY_STATUSES, 'Statuses that count as a success.'),
        successes: Counter('Successes that make an unhealthy target healthy; 0 = never.'),
      },
      'Probing of healthy targets.',
    ),
    unhealthy: record(
      {
        interval: Seconds(0, 'Seconds between probes of an unhealthy target; 0 = none.'),
        http_statuses: Statuses(ACTIVE_UNHEALTHY_STATUSES, 'Statuses that count as a failure.'),
        tcp_failures: Counter('TCP failures that make a target unhealthy; 0 = never.'),
        timeouts: Counter('Timeouts that make a target unhealthy; 0 = never.'),
        http_failures: Counter('HTTP failures that make a target unhealthy; 0 = never.'),
      },
      'Probing of unhealthy targets.',
    ),
  },
  'Active health checks: probes sent to each target.',
);

const PassiveChecks = record(
  {
    type: StringEnum(CHECK_TYPES, { default: 'http', description: 'What real traffic is judged on: tcp or http(s).' }),
    healthy: record(
      {
        http_statuses: Statuses(PASSIVE_HEALTHY_STATUSES, 'Statuses that count as a success.'),
        successes: Counter('Successes that make an unhealthy target healthy; 0 = never.'),
      },
      'What makes a target healthy again.',
    ),
    unhealthy: record(
      {
        http_statuses: Statuses(PASSIVE_UNHEALTHY_STATUSES, 'Statuses that count as a failure.'),
        tcp_failures: Counter('TCP failures that make a target unhealthy; 0 = never.'),
        timeouts: Counter('Timeouts that make a target unhealthy; 0 = never.'),
        http_failures: Counter('HTTP failures that make a target unhealthy; 0 = never.'),
      },
      'What makes a target unhealthy (the circuit breaker).',
    ),
  },
  'Passive health checks: judged from proxied traffic.',
);

export const HealthchecksSchema = record(
  {
    active: ActiveChecks,
    passive: PassiveChecks,
    threshold: Type.Number({ minimum: 0, maximum: 100, default: 0, description: 'Percent of the weight that must be healthy, or the upstream answers 503.' }),
  },
  'Health checks; every counter 0 (the default) means off.',
);

/** A target's own fields, nested under its upstream (decK) or top level with `upstream`. */
const targetFields = {
  id: Type.Optional(Uuid('Stable id; derived from the upstream and the target when absent.')),
  target: Type.String({ minLength: 1, description: 'host[:port] or ip[:port] ([v6]:port); port default 8000.' }),
  weight: Type.Integer({ minimum: 0, maximum: 65535, default: 100, description: 'Share of the traffic; 0 = disabled.' }),
  tags: Tags,
};

export const NestedTargetSchema = Type.Object(targetFields, { additionalProperties: false });

export const TargetSchema = Type.Object(
  {
    ...targetFields,
    upstream: EntityReference('upstream'),
  },
  { additionalProperties: false },
);

export const UpstreamSchema = Type.Object(
  {
    id: Type.Optional(Uuid('Stable id; derived from the name when absent.')),
    name: Type.String({ minLength: 1, description: 'A host name (no IP, no port); a service whose host equals it is balanced over the targets.' }),
    // No schema defaults for these two: Kong's shorthand (checks/upstream.ts) depends on which of
    // them was written. Absent, they are round-robin and none.
    algorithm: Type.Optional(StringEnum(UPSTREAM_ALGORITHMS, { description: 'How a target is chosen; default round-robin.' })),
    hash_on: Type.Optional(StringEnum(HASH_ON, { description: 'What consistent hashing hashes on; default none. Setting it sets algorithm.' })),
    hash_fallback: StringEnum(HASH_ON, { default: 'none', description: 'What to hash on when hash_on gives nothing.' }),
    hash_on_header: Type.Optional(Type.String({ minLength: 1, description: 'Header hashed on (hash_on: header).' })),
    hash_fallback_header: Type.Optional(Type.String({ minLength: 1, description: 'Header hashed on (hash_fallback: header).' })),
    hash_on_cookie: Type.Optional(Type.String({ minLength: 1, description: 'Cookie hashed on, set on the response when missing.' })),
    hash_on_cookie_path: Type.String({ minLength: 1, pattern: '^/', default: '/', errorMessage: "must start with '/'", description: 'Path of that cookie.' }),
    hash_on_query_arg: Type.Optional(Type.String({ minLength: 1, description: 'Query argument hashed on.' })),
    hash_fallback_query_arg: Type.Optional(Type.String({ minLength: 1, description: 'Query argument hashed on as fallback.' })),
    hash_on_uri_capture: Type.Optional(Type.String({ minLength: 1, description: 'Named capture of the route path hashed on.' })),
    hash_fallback_uri_capture: Type.Optional(Type.String({ minLength: 1, description: 'Named capture hashed on as fallback.' })),
    slots: Type.Integer({ minimum: 10, maximum: 65536, default: 10000, description: 'Slots of the hashing ring.' }),
    healthchecks: HealthchecksSchema,
    host_header: Type.Optional(Type.String({ minLength: 1, description: 'Host header sent to the targets (host[:port]).' })),
    client_certificate: Type.Optional(
      Type.Union([Uuid('Id of a certificates entity.'), Type.Object({ id: Uuid('Id of a certificates entity.') }, { additionalProperties: false })], {
        description: 'Certificate presented to the targets over TLS, by id.',
      }),
    ),
    use_srv_name: Type.Boolean({ default: false, description: 'Use the SRV record name as the host (DNS SRV targets).' }),
    tags: Tags,
    targets: Type.Optional(Type.Array(NestedTargetSchema, { description: 'Targets of this upstream.' })),
  },
  { additionalProperties: false },
);

export type UpstreamInput = Static<typeof UpstreamSchema>;
export type TargetInput = Static<typeof TargetSchema>;
