/**
 * Refusals, built in one place: a reason code becomes Kong's status and `{"message": …}` body and
 * the RFC 6750 challenge (`error` only when a token was sent and `expose_error_code` is on,
 * `scope` with `insufficient_scope`). Inside the plugin a refusal travels as an `AuthFailure`; the
 * handler turns it into a `GatewayError` here.
 */
import { GatewayError, type OAuthErrorCode } from '../../pipeline/gateway-error.js';
import { reasons, type ReasonCode } from './reasons.js';

/** A refusal inside the plugin: the reason code, plus details for the log and the challenge. */
export class AuthFailure extends Error {
  readonly reason: ReasonCode;
  /** Safe detail for the log (claim names, kid, never the token). */
  readonly detail: string | undefined;
  /** For `scope_insufficient`: the scopes that would have sufficed. */
  readonly requiredScope: string | undefined;

  constructor(reason: ReasonCode, detail?: string, options: { requiredScope?: string; cause?: unknown } = {}) {
    super(detail === undefined ? reasons[reason].text : `${reasons[reason].text}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuthFailure';
    this.reason = reason;
    this.detail = detail;
    this.requiredScope = options.requiredScope;
  }
}

export interface ResponseSettings {
  readonly realm: string;
  readonly unauthorizedMessage: string;
  readonly forbiddenMessage: string;
  readonly displayErrors: boolean;
  readonly exposeErrorCode: boolean;
}

const json = (message: string) => ({ contentType: 'application/json; charset=utf-8', text: JSON.stringify({ message }) });

/** The response for a refusal, as Kong's openid-connect sends it. */
export function refusalResponse(failure: AuthFailure, settings: ResponseSettings): GatewayError {
  const info = reasons[failure.reason];
  const withReason = (message: string): string => (settings.displayErrors ? `${message} (${info.text})` : message);
  const challenge = (error: OAuthErrorCode | undefined, scope?: string) => ({
    scheme: 'Bearer',
    params: {
      realm: settings.realm,
      error: settings.exposeErrorCode ? error : undefined,
      error_description: settings.exposeErrorCode && error !== undefined && settings.displayErrors ? info.text : undefined,
      scope: settings.exposeErrorCode && error === 'insufficient_scope' ? scope : undefined,
    },
  });
  switch (info.refusal) {
    case 'unauthorized': {
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      const error = failure.reason === 'no_token' ? undefined : 'invalid_token';
      const message = withReason(settings.unauthorizedMessage);
      return new GatewayError({ status: 401, code: failure.reason, message, oauthError: error, description: failure.message, challenge: challenge(error), body: json(message) });
    }
    case 'forbidden': {
      const message = withReason(settings.forbiddenMessage);
      const error = failure.reason === 'consumer_not_found' ? undefined : 'insufficient_scope';
      return new GatewayError({
        status: 403,
        code: failure.reason,
        message,
        oauthError: error,
        description: failure.message,
        challenge: challenge(error, failure.requiredScope),
        body: json(message),
      });
    }
    case 'bad_request': {
      const message = withReason('Bad Request');
      return new GatewayError({ status: 400, code: failure.reason, message, oauthError: 'invalid_request', description: failure.message, challenge: challenge('invalid_request'), body: json(message) });
    }
    case 'unexpected':
      // Kong's 500: nothing about the cause goes to the client (the log has it).
      return new GatewayError({ status: 500, code: failure.reason, message: 'An unexpected error occurred', description: failure.message, cause: failure });
  }
}
