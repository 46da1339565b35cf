/**
 * The compiled shape of a declarative configuration: every entity flattened to a top-level list,
 * every default applied, every reference resolved to an id. Produced by `loadConfig`, frozen, and
 * read by everything downstream. Field names stay snake_case exactly as on the wire.
 */

export type Protocol = 'http' | 'https' | 'grpc' | 'grpcs' | 'tcp' | 'tls' | 'tls_passthrough' | 'udp' | 'ws' | 'wss';
export type ServiceProtocol = 'http' | 'https';
export type RouteProtocol = 'http' | 'https';

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
}

export interface Consumer {
  readonly id: string;
  readonly username: string | null;
  readonly custom_id: string | null;
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

export interface Config {
  readonly _format_version: '3.0';
  readonly services: readonly Service[];
  readonly routes: readonly Route[];
  readonly plugins: readonly PluginEntity[];
  readonly consumers: readonly Consumer[];
  readonly ca_certificates: readonly CaCertificate[];
  readonly certificates: readonly Certificate[];
}

/** One problem found in a configuration: where (`plugins[1].config.issuer`) and what. */
export interface ConfigError {
  readonly path: string;
  readonly message: string;
}
