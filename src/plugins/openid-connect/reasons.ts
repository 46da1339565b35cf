/**
 * Every reason code the plugin reports, in the access log (`reason`, `auth.reason`) and the
 * auth-outcome metric. Codes are stable: dashboards and alerts key on them. Each one is documented
 * in docs/plugins/openid-connect.md (a test checks it).
 */

export type Refusal = 'unauthorized' | 'forbidden' | 'bad_request' | 'unexpected';

export interface ReasonInfo {
  /** Which response it produces. */
  readonly refusal: Refusal;
  /** Kong-style reason text, used with `display_errors` and in logs. */
  readonly text: string;
}

export const reasons = {
  no_token: { refusal: 'unauthorized', text: 'no suitable authorization credentials were provided' },
  multiple_tokens: { refusal: 'bad_request', text: 'more than one access token was provided' },
  token_malformed: { refusal: 'unauthorized', text: 'the access token is malformed' },
  token_too_large: { refusal: 'unauthorized', text: 'the access token is too large' },
  token_not_jwt: { refusal: 'unauthorized', text: 'the access token is not a JWT and introspection is not enabled' },
  alg_not_allowed: { refusal: 'unauthorized', text: 'the token signature algorithm is not allowed' },
  crit_unsupported: { refusal: 'unauthorized', text: 'the token header has critical parameters that are not understood' },
  typ_not_allowed: { refusal: 'unauthorized', text: 'the token type (typ) is not accepted' },
  key_not_found: { refusal: 'unauthorized', text: 'no key of the issuer matches the token' },
  signature_invalid: { refusal: 'unauthorized', text: 'the token signature is invalid' },
  token_expired: { refusal: 'unauthorized', text: 'the access token has expired' },
  exp_missing: { refusal: 'unauthorized', text: 'the access token has no exp claim' },
  token_not_yet_valid: { refusal: 'unauthorized', text: 'the access token is not valid yet (nbf)' },
  token_issued_in_future: { refusal: 'unauthorized', text: 'the access token was issued in the future (iat)' },
  issuer_mismatch: { refusal: 'unauthorized', text: 'the token issuer (iss) is not allowed' },
  claim_forbidden: { refusal: 'unauthorized', text: 'the token carries a forbidden claim' },
  max_age_exceeded: { refusal: 'unauthorized', text: 'the authentication is too old (max_age)' },
  claim_invalid: { refusal: 'unauthorized', text: 'a token claim has an invalid value' },
  token_inactive: { refusal: 'unauthorized', text: 'the access token is not active' },
  audience_mismatch: { refusal: 'forbidden', text: 'required audience was not found' },
  scope_insufficient: { refusal: 'forbidden', text: 'required scopes were not found' },
  groups_insufficient: { refusal: 'forbidden', text: 'required groups were not found' },
  roles_insufficient: { refusal: 'forbidden', text: 'required roles were not found' },
  consumer_not_found: { refusal: 'forbidden', text: 'kong consumer was not found' },
  pop_claim_missing: { refusal: 'unauthorized', text: 'x5t#S256 claim required but not found' },
  pop_certificate_missing: { refusal: 'unauthorized', text: 'client certificate was not specified' },
  pop_certificate_mismatch: { refusal: 'unauthorized', text: 'the client certificate thumbprint does not match the x5t#S256 claim' },
  pop_claim_invalid: { refusal: 'unauthorized', text: 'the x5t#S256 claim is not a valid thumbprint' },
  pop_certificate_invalid: { refusal: 'unauthorized', text: 'the client certificate header could not be read' },
  pop_certificate_untrusted: { refusal: 'unauthorized', text: 'the client certificate from the header failed verification' },
  issuer_unavailable: { refusal: 'unexpected', text: 'the identity provider could not be reached and no keys are known' },
  introspection_unavailable: { refusal: 'unexpected', text: 'the introspection endpoint could not be used' },
  internal_error: { refusal: 'unexpected', text: 'an unexpected error occurred (a bug; see the error log)' },
} as const satisfies Record<string, ReasonInfo>;

export type ReasonCode = keyof typeof reasons;

/** Reason codes of successful outcomes (`auth.reason` when `outcome` is `success`). */
export const successReasons = {
  jwt_verified: 'a JWT verified with the issuer keys',
  introspection_active: 'an introspection response said the token is active',
} as const;

export type SuccessReason = keyof typeof successReasons;

export function isReasonCode(value: string): value is ReasonCode {
  return Object.hasOwn(reasons, value);
}
