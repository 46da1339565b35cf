/**
 * Every reason code the plugin reports, in the access log (`reason`, `auth.reason`) and the
 * auth-outcome metric. Codes are stable: dashboards and alerts key on them. Each one is documented
 * in docs/plugins/openid-connect.md (a test checks it).
 */

export type Refusal = 'unauthorized' | 'forbidden' | 'bad_request' | 'unexpected';

/** RFC 9449 error codes, sent on the DPoP challenge instead of the RFC 6750 one. */
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

export interface ReasonInfo {
  /** Which response it produces. */
  readonly refusal: Refusal;
  /** For DPoP refusals: the RFC 9449 error code of the challenge. */
  readonly dpop?: DpopErrorCode;
  /** Kong-style reason text, used with `display_errors` and in logs. */
  readonly text: string;
  /**
   * The gateway could not check the credential (a store it depends on is down): refused, and
   * never passed as the `anonymous` consumer, so an outage does not turn callers into anonymous ones.
   */
  readonly outage?: true;
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
  dpop_scheme_required: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the access token must be presented with the DPoP scheme and a DPoP proof' },
  dpop_token_downgraded: { refusal: 'unauthorized', text: 'a DPoP-bound access token was presented as a Bearer token' },
  dpop_proof_missing: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'there should be one and only one DPoP header' },
  dpop_proof_multiple: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'more than one DPoP proof was sent' },
  dpop_proof_too_large: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the DPoP proof is too large' },
  dpop_proof_malformed: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the DPoP proof is not a valid JWS' },
  dpop_typ_invalid: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the DPoP proof typ is not dpop+jwt' },
  dpop_alg_not_allowed: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the DPoP proof signature algorithm is not allowed' },
  dpop_jwk_invalid: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the DPoP proof jwk is missing, private or unusable' },
  dpop_signature_invalid: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the DPoP proof signature is invalid' },
  dpop_claim_invalid: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'a required DPoP proof claim is missing or invalid' },
  dpop_jti_invalid: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the DPoP proof jti is empty or too long' },
  dpop_htm_mismatch: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'DPoP proof does not match the request (htm)' },
  dpop_htu_mismatch: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'DPoP proof does not match the request (htu)' },
  dpop_ath_mismatch: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'DPoP proof does not match the access token' },
  dpop_iat_future: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'DPoP proof is not yet valid (iat)' },
  dpop_proof_expired: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'DPoP proof has expired' },
  dpop_nonce_missing: { refusal: 'unauthorized', dpop: 'use_dpop_nonce', text: 'resource server requires nonce in DPoP proof' },
  dpop_nonce_invalid: { refusal: 'unauthorized', dpop: 'use_dpop_nonce', text: 'the DPoP proof nonce was not issued by this gateway' },
  dpop_nonce_expired: { refusal: 'unauthorized', dpop: 'use_dpop_nonce', text: 'the DPoP proof nonce has expired' },
  dpop_binding_missing: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'DPoP key bound to the access token is missing' },
  dpop_binding_invalid: { refusal: 'unauthorized', text: 'the cnf.jkt claim is not a valid thumbprint' },
  dpop_token_type_mismatch: { refusal: 'unauthorized', text: 'the introspected token_type is not DPoP' },
  dpop_key_mismatch: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the JWK in the DPoP proof does not match the token' },
  dpop_proof_replayed: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the DPoP proof was already used' },
  dpop_replay_beyond_capacity: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', text: 'the DPoP proof is older than the replay store can vouch for' },
  dpop_replay_unavailable: { refusal: 'unauthorized', dpop: 'invalid_dpop_proof', outage: true, text: 'the DPoP replay store could not be reached, so the proof cannot be accepted' },
  issuer_unavailable: { refusal: 'unexpected', text: 'the identity provider could not be reached and no keys are known' },
  introspection_unavailable: { refusal: 'unexpected', text: 'the introspection endpoint could not be used' },
  internal_error: { refusal: 'unexpected', text: 'an unexpected error occurred (a bug; see the error log)' },
} as const satisfies Record<string, ReasonInfo>;

export type ReasonCode = keyof typeof reasons;

/** Reason codes of successful outcomes (`auth.reason` when `outcome` is `success`). */
export const successReasons = {
  jwt_verified: 'a JWT verified with the issuer keys',
  introspection_active: 'an introspection response said the token is active',
  jwt_verified_dpop: 'a JWT verified with the issuer keys, and its DPoP proof',
  introspection_active_dpop: 'an introspection response said the token is active, and its DPoP proof verified',
} as const;

export type SuccessReason = keyof typeof successReasons;

export function isReasonCode(value: string): value is ReasonCode {
  return Object.hasOwn(reasons, value);
}
