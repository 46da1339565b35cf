import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Consumer, Route, Service } from '../config/types.js';
import type { ClientCertificate, ConnectionInfo } from '../connection/connection-info.js';
import type { PhaseTimings } from './phase-timings.js';
import type { GatewayError } from './gateway-error.js';

/**
 * The request as the pipeline sees it, the same over HTTP/1.1 and HTTP/2 (the listener's
 * `ClientProtocol` fills it in).
 */
export interface GatewayRequest {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  /**
   * The protocol the request is served as, which decides the plugins that run (their `protocols`):
   * `scheme`, or grpc/grpcs on a gRPC route, ws/wss on a WebSocket route.
   */
  readonly protocol: 'http' | 'https' | 'grpc' | 'grpcs' | 'ws' | 'wss';
  /** Host (Host header or :authority) without port, lower-cased; '' when absent. */
  readonly host: string;
  /** Port from the Host header, else the listener's port. */
  readonly port: number;
  /** The authority as the client sent it (absolute-form target, else Host), '' when absent: what the client's URI named. */
  readonly authority: string;
  /** Whether the peer is a trusted proxy (`--trusted-ips`), whose X-Forwarded-* headers describe the client's request. */
  readonly trustedPeer: boolean;
  /** Path exactly as received, without the query string. */
  readonly path: string;
  /** Raw query string without `?`, or ''. */
  readonly query: string;
  /** `1.1`, `1.0`, or `2.0`. */
  readonly httpVersion: string;
  /** Whether a body follows the head (HTTP/2 may send one without Content-Length). */
  readonly hasBody: boolean;
  /** Headers as received (lower-case names). Never mutated; change `upstreamHeaders` instead. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
}

/** Who the request is, as established by an authentication plugin. */
export interface Identity {
  consumer: Consumer | null;
  /** `X-Credential-Identifier`: the credential used (e.g. a token's `sub`). */
  credentialId: string | null;
  /** `X-Authenticated-Groups`. */
  groups: readonly string[] | null;
  anonymous: boolean;
}

/** The outcome of authentication, for the access log and the metric. */
export interface AuthOutcome {
  plugin: string;
  outcome: 'success' | 'failure' | 'anonymous';
  /** Stable reason code (`token_expired`, `certificate_mismatch`, …). */
  reason: string;
}

/** Headers as the pipeline keeps them: lower-case names, a string or a list of strings. */
export type HeaderMap = Record<string, string | string[]>;

/** Options of `RequestContext.readBody`. */
export interface ReadBodyOptions {
  /**
   * Most bytes read; a larger body is refused with 413. Default: the gateway's buffered-body
   * limit (1 MiB unless configured).
   */
  readonly limit?: number;
}

/**
 * A bound on the client's request body (`RequestContext.limitBody`): the most bytes it may have,
 * and the refusal of a body beyond them.
 */
export interface RequestBodyBound {
  readonly limit: number;
  readonly refusal: () => GatewayError;
}

/**
 * A response body rewrite (`RequestContext.transformResponseBody`): the whole body in, the body to
 * send out (the same Buffer when it leaves it as it is).
 */
export type ResponseBodyTransform = (body: Buffer) => Buffer;

/**
 * One request's state, created when it arrives and handed to each plugin phase. Nothing here
 * outlives the request.
 */
export interface RequestContext {
  readonly id: string;
  /** `performance.now()` when the request arrived (add `performance.timeOrigin` for the epoch). */
  readonly receivedAt: number;
  /**
   * When the plugin phases and the upstream call ran, recorded only on a route with a plugin that
   * traces them (see `PluginDefinition.tracesPhases`); null otherwise.
   */
  timings: PhaseTimings | null;
  readonly request: GatewayRequest;
  readonly connection: ConnectionInfo;
  readonly route: Route;
  readonly service: Service | null;
  /** Headers that will be sent upstream; plugins add, change or remove entries here. */
  readonly upstreamHeaders: HeaderMap;
  /**
   * Query string sent upstream, without `?` ('' for none). Starts as `request.query`; a plugin
   * may replace it (e.g. to remove a credential), the rest of the upstream path stays the core's.
   */
  upstreamQuery: string;
  /** Method sent upstream. Starts as `request.method`; a plugin may change it (request-transformer's `http_method`). */
  upstreamMethod: string;
  /**
   * Path sent upstream (absolute, already percent-encoded, without the query), or null for the
   * one the route and service make (the default). A plugin may set it (request-transformer's
   * `replace.uri`), replacing that path whole, as Kong's `kong.service.request.set_path`.
   */
  upstreamPath: string | null;
  /**
   * The body sent upstream instead of the client's stream, or null to stream it (the default).
   * `readBody` sets it to the bytes it read; a plugin may then replace it (Content-Length is set
   * from it, Transfer-Encoding dropped).
   */
  upstreamBody: Buffer | null;
  /** Extra headers for the client response, applied after the upstream's. */
  readonly responseHeaders: HeaderMap;
  /**
   * The client certificate of this request: the TLS connection's, unless a plugin that reads it
   * from a trusted proxy's header replaced it. Every later plugin (binding checks) reads it here.
   */
  clientCertificate: ClientCertificate | null;
  identity: Identity | null;
  auth: AuthOutcome | null;
  /** Per-request scratch space through which plugins may talk to each other. */
  readonly shared: Map<string, unknown>;
  /**
   * The client's request body, read into memory once (later calls share the same bytes) and
   * bounded: beyond the limit, a 413 GatewayError. From then on the upstream receives
   * `upstreamBody` instead of the stream. Memory and latency are the cost: call it only for
   * requests that really need the body (a bodiless request resolves to an empty Buffer without
   * reading anything).
   */
  readBody(options?: ReadBodyOptions): Promise<Buffer>;
  /**
   * Bounds the client's request body however it travels, without buffering it: a streamed body
   * (chunked, HTTP/2 without Content-Length) is counted as it flows to the upstream, and the chunk
   * that would cross the limit is never forwarded: the upstream request is aborted (the upstream
   * never receives a complete over-limit body) and the client gets `refusal()` if no response head
   * was sent yet (else its connection is closed). A later `readBody` is bounded by it too (with this
   * refusal); a body read before resolves to its check (a rejected promise when over). The
   * smallest of several bounds wins. A body's Content-Length is the caller's to check first.
   */
  limitBody(bound: RequestBodyBound): Promise<void> | undefined;
  /**
   * From a headerFilter: asks for the response body to be rewritten. The proxy then reads the
   * upstream's body into memory, bounded by the gateway's buffered-body limit (beyond it the client
   * gets 502 `response_body_too_large`, never the body the plugin meant to change), applies every
   * registered transform in the order registered, and sends the result with its Content-Length
   * (upstream trailers are dropped). The gateway's own answers (refusals) are rewritten the same way.
   * Responses nobody asks this for stream as they come; so do HEAD, 204 and 304 answers (no body).
   * Call it only for responses the plugin must change: the cost is memory and latency.
   */
  transformResponseBody(transform: ResponseBodyTransform): void;
}
