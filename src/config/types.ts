/**
 * The compiled shape of a declarative configuration: every entity flattened to a top-level list,
 * every default applied, every reference resolved to an id. Produced by `loadConfig`, frozen, and
 * read by everything downstream. Field names stay snake_case exactly as on the wire.
 */

export type Protocol = 'http' | 'https' | 'grpc' | 'grpcs' | 'tcp' | 'tls' | 'tls_passthrough' | 'udp' | 'ws' | 'wss';
export type ServiceProtocol = 'http' | 'https' | 'grpc' | 'grpcs' | 'ws' | 'wss';
export type RouteProtocol = 'http' | 'https' | 'grpc' | 'grpcs' | 'ws' | 'wss';

export interface Service {
  readonly id: string;
  readonly name: string | null;
  readonly protocol: ServiceProtocol;
  readonly host: string;
  readonly port: number;
  /** Path prefix on the upstream, always starting with `/`, or null. */
  readonly path: string | null;
  readonly retries: number;
  readonly connect_timeout: number;
  readonly read_timeout: number;
  readonly write_timeout: number;
  readonly enabled: boolean;
  readonly tags: readonly string[];
  /** Verify the upstream's TLS certificate; null = the gateway default (true). */
  readonly tls_verify: boolean | null;
  readonly tls_verify_depth: number | null;
  /** Ids of `ca_certificates` trusted for this upstream, or null for the system store. */
  readonly ca_certificates: readonly string[] | null;
  /** Id of a `certificates` entity presented to the upstream. */
  readonly client_certificate: string | null;
}

export interface Route {
  readonly id: string;
  readonly name: string | null;
  /** Id of the service, or null for a route without one (it answers 503 as Kong does). */
  readonly service: string | null;
  readonly protocols: readonly RouteProtocol[];
  readonly methods: readonly string[] | null;
  readonly hosts: readonly string[] | null;
  /** Prefix paths, or regex paths that start with `~`, exactly as written. */
  readonly paths: readonly string[] | null;
  /** Header name (lower-case) → accepted values; a value starting with `~*` is a regex. */
  readonly headers: Readonly<Record<string, readonly string[]>> | null;
  readonly snis: readonly string[] | null;
  readonly strip_path: boolean;
  readonly preserve_host: boolean;
  readonly regex_priority: number;
  readonly path_handling: 'v0' | 'v1';
  readonly https_redirect_status_code: 426 | 301 | 302 | 307 | 308;
  readonly request_buffering: boolean;
  readonly response_buffering: boolean;
  readonly tags: readonly string[];
  /** Position in the file; the last tie-breaker, standing in for Kong's `created_at`. */
  readonly order: number;
}

export interface PluginEntity {
  readonly id: string;
  readonly name: string;
  readonly instance_name: string | null;
  /** The plugin's own configuration, validated against its schema with defaults applied. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly enabled: boolean;
  readonly protocols: readonly Protocol[];
  readonly tags: readonly string[];
  readonly service: string | null;
  readonly route: string | null;
  readonly consumer: string | null;
  /** Id of the consumer group the plugin is scoped to (Kong Enterprise's `consumer_group`), or null. */
  readonly consumer_group: string | null;
}

export interface Consumer {
  readonly id: string;
  readonly username: string | null;
  readonly custom_id: string | null;
  readonly tags: readonly string[];
}

/**
 * A consumer group (Kong Enterprise): a name that plugins can be scoped to, and its members.
 * Membership is Kong's `consumer_group_consumers` table; it is kept here, on the group, as the ids
 * of its consumers in the order of `Config.consumers` (however the file wrote it).
 */
export interface ConsumerGroup {
  readonly id: string;
  readonly name: string;
  readonly tags: readonly string[];
  /** Ids of the member consumers, in `Config.consumers` order. */
  readonly consumers: readonly string[];
}

/** An API key of a consumer (Kong's keyauth_credentials). */
export interface KeyAuthCredential {
  readonly id: string;
  readonly consumer: string;
  readonly key: string;
  readonly tags: readonly string[];
}

/** A username and password of a consumer (Kong's basicauth_credentials). */
export interface BasicAuthCredential {
  readonly id: string;
  readonly consumer: string;
  readonly username: string;
  /** Kong's stored form: the lowercase hex SHA-1 of the password followed by the consumer id; never the password. */
  readonly password: string;
  readonly tags: readonly string[];
}

/** Kong's JWS algorithms of jwt_secrets (kong/plugins/jwt/daos.lua). */
export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** A JWT signing key of a consumer (Kong's jwt_secrets): found by `key`, verified with `secret` (HS*) or `rsa_public_key`. */
export interface JwtSecret {
  readonly id: string;
  readonly consumer: string;
  readonly key: string;
  readonly secret: string | null;
  readonly rsa_public_key: string | null;
  readonly algorithm: JwtAlgorithm;
  readonly tags: readonly string[];
}

/** An ACL group of a consumer (Kong's acls). */
export interface Acl {
  readonly id: string;
  readonly consumer: string;
  readonly group: string;
  readonly tags: readonly string[];
}

export interface CaCertificate {
  readonly id: string;
  readonly cert: string;
  readonly cert_digest: string;
  readonly tags: readonly string[];
}

export interface Certificate {
  readonly id: string;
  readonly cert: string;
  readonly key: string;
  readonly cert_alt: string | null;
  readonly key_alt: string | null;
  /** SNI names served with this certificate; may hold wildcards (`*.example.com`, `*`). */
  readonly snis: readonly string[];
  /** The same SNIs as Kong's SNI entities, in the same order: the id (the given one, else derived from the name) and tags. */
  readonly sni_entities: readonly SniEntity[];
  readonly tags: readonly string[];
}

export interface SniEntity {
  readonly id: string;
  readonly name: string;
  readonly tags: readonly string[];
}

export type UpstreamAlgorithm = 'round-robin' | 'consistent-hashing' | 'least-connections' | 'latency';
export type HashOn = 'none' | 'consumer' | 'ip' | 'header' | 'cookie' | 'path' | 'query_arg' | 'uri_capture';
export type HealthCheckType = 'tcp' | 'http' | 'https' | 'grpc' | 'grpcs';

export interface ActiveHealthchecks {
  readonly type: HealthCheckType;
  readonly timeout: number;
  readonly concurrency: number;
  readonly http_path: string;
  readonly https_sni: string | null;
  readonly https_verify_certificate: boolean;
  readonly headers: Readonly<Record<string, readonly string[]>> | null;
  readonly healthy: { readonly interval: number; readonly http_statuses: readonly number[]; readonly successes: number };
  readonly unhealthy: {
    readonly interval: number;
    readonly http_statuses: readonly number[];
    readonly tcp_failures: number;
    readonly timeouts: number;
    readonly http_failures: number;
  };
}

export interface PassiveHealthchecks {
  readonly type: HealthCheckType;
  readonly healthy: { readonly http_statuses: readonly number[]; readonly successes: number };
  readonly unhealthy: { readonly http_statuses: readonly number[]; readonly tcp_failures: number; readonly timeouts: number; readonly http_failures: number };
}

export interface Healthchecks {
  readonly active: ActiveHealthchecks;
  readonly passive: PassiveHealthchecks;
  /** Percent of the upstream's weight that must be healthy; below it, 503. */
  readonly threshold: number;
}

/** A virtual host: a service whose `host` equals `name` is balanced over the upstream's targets. */
export interface Upstream {
  readonly id: string;
  readonly name: string;
  readonly algorithm: UpstreamAlgorithm;
  readonly hash_on: HashOn;
  readonly hash_fallback: HashOn;
  readonly hash_on_header: string | null;
  readonly hash_fallback_header: string | null;
  readonly hash_on_cookie: string | null;
  readonly hash_on_cookie_path: string;
  readonly hash_on_query_arg: string | null;
  readonly hash_fallback_query_arg: string | null;
  readonly hash_on_uri_capture: string | null;
  readonly hash_fallback_uri_capture: string | null;
  readonly slots: number;
  readonly healthchecks: Healthchecks;
  readonly host_header: string | null;
  /** Id of a `certificates` entity presented to the targets. */
  readonly client_certificate: string | null;
  readonly use_srv_name: boolean;
  readonly tags: readonly string[];
}

export interface Target {
  readonly id: string;
  /** Id of its upstream. */
  readonly upstream: string;
  /** Kong's stored form: `host:port`, `[v6]:port`; the port defaults to 8000. */
  readonly target: string;
  readonly weight: number;
  readonly tags: readonly string[];
}

export interface Config {
  readonly _format_version: '3.0';
  readonly services: readonly Service[];
  readonly routes: readonly Route[];
  readonly plugins: readonly PluginEntity[];
  readonly consumers: readonly Consumer[];
  readonly consumer_groups: readonly ConsumerGroup[];
  readonly ca_certificates: readonly CaCertificate[];
  readonly certificates: readonly Certificate[];
  readonly upstreams: readonly Upstream[];
  /** Targets of every upstream, in file order. */
  readonly targets: readonly Target[];
  readonly keyauth_credentials: readonly KeyAuthCredential[];
  readonly basicauth_credentials: readonly BasicAuthCredential[];
  readonly jwt_secrets: readonly JwtSecret[];
  readonly acls: readonly Acl[];
}

/** One problem found in a configuration: where (`plugins[1].config.issuer`) and what. */
export interface ConfigError {
  readonly path: string;
  readonly message: string;
}
