/**
 * Refusals, built in one place: a reason code becomes Kong's status and `{"message": …}` body and
 * the RFC 6750 challenge (`error` only when a token was sent and `expose_error_code` is on,
 * `scope` with `insufficient_scope`). Inside the plugin a refusal travels as an `AuthFailure`; the
 * handler turns it into a `GatewayError` here.
 */
import { GatewayError, type Challenge, type OAuthErrorCode } from '../../pipeline/gateway-error.js';
import { reasons, type ReasonCode, type ReasonInfo } from './reasons.js';

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
  /** DPoP on: its mode and the `algs` of its challenge; null for a Bearer-only instance. */
  readonly dpop: { readonly mode: 'strict' | 'optional'; readonly algs: string } | null;
}

/** How the refused request presented its token: which challenge its error belongs on (RFC 9449 Fig. 18). */
export type PresentedScheme = 'bearer' | 'dpop' | null;

const json = (message: string) => ({ contentType: 'application/json; charset=utf-8', text: JSON.stringify({ message }) });

/**
 * The challenges of a refusal. A Bearer-only instance sends Kong's `Bearer realm=…`. With DPoP,
 * `DPoP algs=…, realm=…` (RFC 9449 §7.1); in optional mode Bearer stays acceptable, so both are
 * offered, Bearer first (Fig. 17). The error goes on the challenge of the scheme the client used,
 * and a DPoP proof error always on DPoP; with no credentials neither carries one (RFC 6750 §3.1).
 */
function challenges(settings: ResponseSettings, failure: AuthFailure, error: OAuthErrorCode | undefined, presented: PresentedScheme, scope: string | undefined): Challenge[] {
  const info = reasons[failure.reason];
  const code = settings.exposeErrorCode ? error : undefined;
  const errorParams = {
    error: code,
    error_description: code !== undefined && settings.displayErrors ? info.text : undefined,
    scope: code === 'insufficient_scope' ? scope : undefined,
  };
  const dpop = settings.dpop;
  const bearer = (withError: boolean): Challenge => ({ scheme: 'Bearer', params: { realm: settings.realm, ...(withError ? errorParams : {}) } });
  if (dpop === null) return [bearer(true)];
  const errorOnDpop = dpop.mode === 'strict' || presented === 'dpop' || 'dpop' in info;
  const dpopChallenge: Challenge = { scheme: 'DPoP', params: { algs: dpop.algs, realm: settings.realm, ...(errorOnDpop ? errorParams : {}) } };
  return dpop.mode === 'strict' ? [dpopChallenge] : [bearer(!errorOnDpop), dpopChallenge];
}

/**
 * The error code of a 401: RFC 9449's for proof and nonce failures; in strict mode, as Kong, every
 * failure of the DPoP check is `invalid_dpop_proof`; token failures stay RFC 6750's `invalid_token`.
 */
function unauthorizedError(reason: ReasonCode, info: ReasonInfo, settings: ResponseSettings): OAuthErrorCode {
  if (info.dpop !== undefined) return info.dpop;
  return settings.dpop?.mode === 'strict' && reason.startsWith('dpop_') ? 'invalid_dpop_proof' : 'invalid_token';
}

/** The response for a refusal, as Kong's openid-connect sends it (with RFC 9449's challenges where DPoP is on). */
export function refusalResponse(failure: AuthFailure, settings: ResponseSettings, presented: PresentedScheme = null, headers?: Readonly<Record<string, string>>): GatewayError {
  const info: ReasonInfo = reasons[failure.reason];
  const withReason = (message: string): string => (settings.displayErrors ? `${message} (${info.text})` : message);
  switch (info.refusal) {
    case 'unauthorized': {
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      const error = failure.reason === 'no_token' ? undefined : unauthorizedError(failure.reason, info, settings);
      const message = withReason(settings.unauthorizedMessage);
      return new GatewayError({
        status: 401,
        code: failure.reason,
        message,
        oauthError: error,
        description: failure.message,
        challenge: challenges(settings, failure, error, presented, undefined),
        headers,
        body: json(message),
      });
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
        challenge: challenges(settings, failure, error, presented, failure.requiredScope),
        headers,
        body: json(message),
      });
    }
    case 'bad_request': {
      const message = withReason('Bad Request');
      return new GatewayError({
        status: 400,
        code: failure.reason,
        message,
        oauthError: 'invalid_request',
        description: failure.message,
        challenge: challenges(settings, failure, 'invalid_request', presented, undefined),
        headers,
        body: json(message),
      });
    }
    case 'unexpected':
      // Kong's 500: nothing about the cause goes to the client (the log has it).
      return new GatewayError({ status: 500, code: failure.reason, message: 'An unexpected error occurred', description: failure.message, cause: failure });
  }
}
