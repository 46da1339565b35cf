import { GatewayError } from '../pipeline/gateway-error.js';
import type { UpstreamEndpoint } from './service-endpoints.js';

/**
 * Why talking to an upstream failed, and what the client is told. Kong's bodies come from
 * `kong/error_handlers.lua`: 502 "An invalid response was received from the upstream server",
 * 504 "The upstream server is timing out".
 */
export type UpstreamFailure =
  /** Nothing listening, or no route to it: nothing was sent. */
  | 'connect_failed'
  /** The upstream host name did not resolve: nothing was sent. */
  | 'dns_failed'
  /** The TCP or TLS handshake did not finish in `connect_timeout`: nothing was sent. */
  | 'connect_timeout'
  /** The TLS handshake failed, most often certificate verification. */
  | 'tls_failed'
  /** The connection was closed or reset after it was established. */
  | 'reset'
  /** No response headers (or no body bytes) within `read_timeout`. */
  | 'read_timeout'
  /** The upstream stopped reading the request body for `write_timeout`. */
  | 'write_timeout'
  /** The upstream answered something that is not HTTP/1.1, or broke its own framing. */
  | 'invalid_response'
  /** The gateway built a request undici refuses (a plugin set an invalid header, say). */
  | 'request_invalid'
  /** The service's upstream has no target that can take the request (none with weight above 0). */
  | 'no_target'
  /** The client went away (or its request body broke off); nothing will be sent to it. */
  | 'client_aborted'
  | 'unknown';

/** A failure to proxy, with the number of attempts made (1 + retries used). */
export class UpstreamError extends GatewayError {
  readonly failure: UpstreamFailure;
  readonly attempts: number;

  constructor(failure: UpstreamFailure, attempts: number, cause: unknown) {
    super({ ...responseFor(failure), description: describe(failure, cause, attempts), cause });
    this.name = 'UpstreamError';
    this.failure = failure;
    this.attempts = attempts;
  }
}

const badGateway = 'An invalid response was received from the upstream server';
const timingOut = 'The upstream server is timing out';

function responseFor(failure: UpstreamFailure): { status: number; code: string; message: string } {
  switch (failure) {
    case 'connect_failed':
      return { status: 502, code: 'upstream_connect_failed', message: badGateway };
    case 'dns_failed':
      return { status: 502, code: 'upstream_dns_failed', message: badGateway };
    case 'tls_failed':
      return { status: 502, code: 'upstream_tls_failed', message: badGateway };
    case 'reset':
      return { status: 502, code: 'upstream_reset', message: badGateway };
    case 'invalid_response':
      return { status: 502, code: 'upstream_invalid_response', message: badGateway };
    case 'connect_timeout':
    case 'read_timeout':
    case 'write_timeout':
      return { status: 504, code: 'upstream_timeout', message: timingOut };
    case 'no_target':
      // Kong's words (kong/runloop/balancer/init.lua via handler.lua), and its status.
      return { status: 503, code: 'upstream_no_target', message: 'failure to get a peer from the ring-balancer' };
    case 'request_invalid':
      return { status: 500, code: 'upstream_request_invalid', message: 'An unexpected error occurred' };
    case 'client_aborted':
      // nginx's 499: logged, never sent.
      return { status: 499, code: 'client_aborted', message: 'Client closed request' };
    case 'unknown':
      return { status: 502, code: 'upstream_error', message: badGateway };
  }
}

/** Marks errors this module raises itself, so they are classified without guessing. */
export const writeTimeoutCode = 'PORTCULLIS_UPSTREAM_WRITE_TIMEOUT';
export const readTimeoutCode = 'PORTCULLIS_UPSTREAM_READ_TIMEOUT';
export const clientBodyAbortedCode = 'PORTCULLIS_CLIENT_BODY_ABORTED';

const connectFailed = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const dnsFailed = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA', 'ENODATA']);
// UND_ERR_CLOSED / UND_ERR_DESTROYED (a pool closed under the request) stay 'unknown': not retried.
const reset = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const invalidResponse = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_INFO',
]);
const requestInvalid = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE']);
// OpenSSL verification results as node reports them (X509_V_ERR_* without the prefix), plus
// node's own host-name check.
const certificateRejected = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Classifies an error thrown by undici (or by this module's own streams). */
export function classifyFailure(error: unknown): UpstreamFailure {
  const code = codeOf(error);
  if (code === undefined) return isParserError(error) ? 'invalid_response' : 'unknown';
  // UND_ERR_ABORTED: undici saw the request body stream close before its end, i.e. the client left.
  if (code === clientBodyAbortedCode || code === 'UND_ERR_ABORTED') return 'client_aborted';
  if (code === writeTimeoutCode) return 'write_timeout';
  if (code === readTimeoutCode) return 'read_timeout';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'connect_timeout';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'read_timeout';
  if (connectFailed.has(code)) return 'connect_failed';
  if (dnsFailed.has(code)) return 'dns_failed';
  if (certificateRejected.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') return 'tls_failed';
  if (reset.has(code)) return 'reset';
  if (code.startsWith('HPE_') || invalidResponse.has(code)) return 'invalid_response';
  if (requestInvalid.has(code)) return 'request_invalid';
  return 'unknown';
}

/** What a failure means to a passive health check (Kong's circuit breaker): a TCP failure, a timeout, or nothing to judge. */
function passiveOutcome(failure: UpstreamFailure): 'tcp_failure' | 'timeout' | null {
  switch (failure) {
    case 'connect_failed':
    case 'dns_failed':
    case 'tls_failed':
    case 'reset':
    case 'invalid_response':
      return 'tcp_failure';
    case 'connect_timeout':
    case 'read_timeout':
    case 'write_timeout':
      return 'timeout';
    default:
      return null;
  }
}

/** Counts a failed attempt in the endpoint's passive health check (Kong's circuit breaker), if it judges that kind. */
export function observePassively(endpoint: UpstreamEndpoint, failure: UpstreamFailure): void {
  const judged = passiveOutcome(failure);
  if (judged !== null) endpoint.health?.observeFailure(judged, failure);
}

/** Failures where the connection was never established, so no byte of the request left. */
export function isConnectPhase(failure: UpstreamFailure): boolean {
  return failure === 'connect_failed' || failure === 'dns_failed' || failure === 'connect_timeout';
}

/**
 * An error's code; node reports a connection that failed on every resolved address (happy
 * eyeballs) as an AggregateError, whose first member carries the code.
 */
function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  if (error instanceof AggregateError) return codeOf(error.errors[0]);
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined || cause === error ? undefined : codeOf(cause);
}

/**
 * undici's HTTPParserError (bytes that are not an HTTP/1.1 response, broken chunked framing) has no
 * `code`: undici looks llhttp's error name up in a name → number table with the number, so its
 * `HPE_…` code is always undefined. It is recognised by its name, anywhere in the cause chain.
 */
function isParserError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 8) return false;
  if ((error as { name?: unknown }).name === 'HTTPParserError') return true;
  if (error instanceof AggregateError) return error.errors.some((e) => isParserError(e, depth + 1));
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isParserError(cause, depth + 1);
}

function describe(failure: UpstreamFailure, cause: unknown, attempts: number): string {
  const detail = cause instanceof Error ? cause.message : String(cause);
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  return `${failure.replaceAll('_', ' ')}: ${detail} (${tries})`;
}
