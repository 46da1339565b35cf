/**
 * A deliberate refusal. Plugins and the core throw (or return) one of these; the pipeline turns it
 * into Kong's JSON body, the RFC 6750 challenge, the access-log reason and the auth metric.
 */

export type OAuthErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce';

/** An RFC 6750 / RFC 7235 challenge: a scheme and its auth-params (serialised in one place). */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string | undefined>>;
}

export interface GatewayErrorOptions {
  /** HTTP status sent to the client. */
  status: number;
  /** Stable reason code for logs and metrics, e.g. `token_expired`, `no_route`. */
  code: string;
  /** Body `message`, Kong style (`Unauthorized`). */
  message: string;
  /** OAuth error placed in the challenge when the plugin exposes error codes. */
  oauthError?: OAuthErrorCode;
  /** Safe, human-readable detail; never a token, key or secret. */
  description?: string;
  /** One challenge, or several (RFC 9110 §11.6.1: a DPoP route that also takes Bearer offers both, in one header). */
  challenge?: Challenge | readonly Challenge[];
  /** Extra response headers (e.g. `Location` for redirects). */
  headers?: Readonly<Record<string, string>>;
  /** A complete body replacing Kong's `{"message"}` JSON (plugins that answer on purpose, like request-termination). */
  body?: { readonly contentType: string; readonly text: string };
  /** The underlying exception, for the log only. */
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly code: string;
  readonly oauthError: OAuthErrorCode | undefined;
  readonly description: string | undefined;
  readonly challenges: readonly Challenge[];
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly body: { readonly contentType: string; readonly text: string } | undefined;

  constructor(options: GatewayErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.status = options.status;
    this.code = options.code;
    this.oauthError = options.oauthError;
    this.description = options.description;
    const challenge = options.challenge;
    this.challenges = challenge === undefined ? [] : 'scheme' in challenge ? [challenge] : challenge;
    this.headers = options.headers;
    this.body = options.body;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
