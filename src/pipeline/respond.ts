import type { HeaderMap } from './context.js';
import { GatewayError } from './gateway-error.js';
import { formatChallenge } from './www-authenticate.js';

/** The response the gateway itself produces, before it is written to the wire. */
export interface GatewayResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Headers with one string each, a list joined with ", " (what a GatewayResponse carries). */
export function flatHeaders(headers: HeaderMap): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

/**
 * Kong's error body for a refusal: `{"message": "...", "request_id": "..."}`, plus the challenge
 * header. The description goes to the log, never to the body (a plugin opting into
 * `display_errors` folds it into the message itself). `extraParams` join every challenge (the
 * route's RFC 9728 `resource_metadata`).
 */
export function errorResponse(error: GatewayError, requestId: string, extraParams: Readonly<Record<string, string>> | null = null): GatewayResponse {
  const headers: Record<string, string> = {
    'content-type': error.body?.contentType ?? 'application/json; charset=utf-8',
    ...error.headers,
  };
  if (error.challenges.length > 0) {
    const challenges = extraParams === null ? error.challenges : error.challenges.map((c) => ({ scheme: c.scheme, params: { ...c.params, ...extraParams } }));
    headers['www-authenticate'] = challenges.map(formatChallenge).join(', ');
  }
  const bodyless = error.status === 204 || error.status === 304;
  const body = bodyless ? '' : (error.body?.text ?? JSON.stringify({ message: error.message, request_id: requestId }));
  return { status: error.status, headers, body };
}

/** An exception that was not a deliberate refusal: a 500 that says nothing of its cause. */
export function unexpectedError(cause: unknown): GatewayError {
  return new GatewayError({ status: 500, code: 'internal_error', message: 'An unexpected error occurred', cause });
}

/** Normalises anything thrown inside the pipeline into a GatewayError. */
export function toGatewayError(thrown: unknown): GatewayError {
  return thrown instanceof GatewayError ? thrown : unexpectedError(thrown);
}
