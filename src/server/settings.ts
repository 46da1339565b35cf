import type { RedisSettings } from '../state/redis/redis-settings.js';
import type { PostgresSettings } from '../store/postgres/pg-settings.js';

/**
 * Every setting of a running gateway, with its default. The CLI fills these from flags and
 * `PORTCULLIS_*` environment variables; tests build them directly.
 */
export interface GatewaySettings {
  /** Kong syntax, default `0.0.0.0:8000, 0.0.0.0:8443 http2 ssl` (Kong's, without its reuseport/backlog). */
  proxyListen: string;
  /** Default `127.0.0.1:8001`. */
  adminListen: string;
  /** Kong's status listener: `/status`, `/status/ready` and `/metrics` only, no token; default `off`. */
  statusListen: string;
  /** Directory for durable state: the self-signed certificate, the current configuration. */
  prefix: string;
  /** A decK file to load at start. */
  declarativeConfig: string | null;
  /** PEM files of the default server certificate (else a self-signed one in the prefix). */
  sslCert: string | null;
  sslCertKey: string | null;
  /** Extra CA PEM files trusted on outgoing TLS (upstreams, IdPs). */
  trustedCertificates: string[];
  /** Offer HTTP/2 (ALPN h2, falling back to HTTP/1.1) to https services; grpc/grpcs always use it. */
  upstreamHttp2: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Write one access-log line per request. */
  accessLog: boolean;
  limits: ConnectionLimits;
  /** How long a graceful shutdown waits for in-flight requests. */
  drainTimeoutMs: number;
  /** When set, every admin request needs `Authorization: Bearer <token>` or `Kong-Admin-Token`. */
  adminToken: string | null;
  /**
   * CIDRs (or addresses) of TLS-terminating proxies whose forwarding and client-certificate
   * headers are believed; from anyone else such headers are stripped.
   */
  trustedIps: string[];
  /**
   * Proxy processes. 1 serves everything in this process; more fork that many proxy workers that
   * share the listeners, with the admin API and the configuration store in the primary.
   */
  workers: number;
  /**
   * The DPoP nonce key (one base64url line, 32+ bytes); null: `<prefix>/dpop-nonce.key`, created on
   * first start. Nodes that should accept each other's nonces share one file.
   */
  dpopNonceKeyFile: string | null;
  /** Marks the node's DPoP replay store holds (see docs/plugins/openid-connect.md). */
  replayCacheEntries: number;
  /**
   * Where the configuration lives (Kong's `database`): `off`, the prefix's file store (one node), or
   * `postgres`, shared by every node connected to the same database.
   */
  database: 'off' | 'postgres';
  /** With `database: postgres`: where it is. */
  postgres: PostgresSettings | null;
  /** With `database: postgres`: how often a node checks for changes it was not notified of (Kong's db_update_frequency). */
  dbUpdateFrequencyMs: number;
  /** The Redis the nodes share (`--redis-url`): DPoP replay cache, rate-limiting policy `cluster`; null: none, each node keeps its own. */
  redis: RedisSettings | null;
  /** The node's name; null: the one kept in `<prefix>/node.id`, made on first start. */
  nodeId: string | null;
}

export interface ConnectionLimits {
  /** Largest request head (request line + headers), bytes. */
  maxHeaderSize: number;
  /** Time allowed to receive the request head. */
  headersTimeoutMs: number;
  /** Time allowed to receive the whole request. */
  requestTimeoutMs: number;
  /** Idle time before a keep-alive connection is closed. */
  keepAliveTimeoutMs: number;
  /** Concurrent client connections per listener; further ones are refused. */
  maxConnections: number;
  /** Largest request body a plugin may read into memory (e.g. a token in a form body); 413 beyond. */
  maxBufferedBodySize: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS of an HTTP/2 connection (nginx's http2_max_concurrent_streams, 128). */
  http2MaxConcurrentStreams: number;
  /** Longest time a WebSocket tunnel may carry nothing either way; null: the service's `read_timeout` (Kong's). */
  websocketIdleTimeoutMs: number | null;
  /** Longest life of a WebSocket tunnel; 0: none (Kong has none). */
  websocketMaxDurationMs: number;
}

export const defaultSettings: Readonly<GatewaySettings> = Object.freeze({
  proxyListen: '0.0.0.0:8000, 0.0.0.0:8443 http2 ssl',
  adminListen: '127.0.0.1:8001',
  statusListen: 'off',
  prefix: '.portcullis',
  declarativeConfig: null,
  sslCert: null,
  sslCertKey: null,
  trustedCertificates: [],
  upstreamHttp2: false,
  logLevel: 'info',
  accessLog: true,
  limits: Object.freeze({
    maxHeaderSize: 32 * 1024,
    headersTimeoutMs: 30_000,
    requestTimeoutMs: 300_000,
    keepAliveTimeoutMs: 60_000,
    maxConnections: 16_384,
    maxBufferedBodySize: 1024 * 1024,
    http2MaxConcurrentStreams: 128,
    websocketIdleTimeoutMs: null,
    websocketMaxDurationMs: 0,
  }),
  drainTimeoutMs: 30_000,
  adminToken: null,
  trustedIps: [],
  workers: 1,
  dpopNonceKeyFile: null,
  replayCacheEntries: 1_000_000,
  database: 'off',
  postgres: null,
  dbUpdateFrequencyMs: 5000,
  nodeId: null,
  redis: null,
});
