/**
 * Kong's checks of the registered claims (jwt_parser.lua): for each of `claims_to_verify`, the
 * claim must be a number, `nbf` not after now and `exp` after now (in whole seconds, as ngx.time);
 * then, with `maximum_expiration`, `exp` no further than that from now. A failure is a map of
 * claim → message, which Kong sends as the body of the 401.
 */

export type ClaimErrors = Record<string, string | string[]>;

const RULES: Readonly<Record<'exp' | 'nbf', (value: number, now: number) => string | null>> = {
  nbf: (nbf, now) => (nbf > now ? 'token not valid yet' : null),
  exp: (exp, now) => (exp <= now ? 'token expired' : null),
};

/** The errors of the claims Kong verifies, or null when there are none. `now` is in seconds. */
export function registeredClaimErrors(claims: Readonly<Record<string, unknown>>, toVerify: readonly ('exp' | 'nbf')[], now: number): ClaimErrors | null {
  const errors: ClaimErrors = {};
  for (const name of new Set(toVerify)) {
    const value = claims[name];
    const error = typeof value !== 'number' ? 'must be a number' : RULES[name](value, now);
    if (error !== null) errors[name] = error;
  }
  return Object.keys(errors).length === 0 ? null : errors;
}

/** The error of a token living longer than `maximum` seconds from now, or null (0: no maximum). */
export function maximumExpirationError(claims: Readonly<Record<string, unknown>>, maximum: number, now: number): ClaimErrors | null {
  if (maximum <= 0) return null;
  const exp = claims.exp;
  return typeof exp !== 'number' || exp - now > maximum ? { exp: 'exceeds maximum allowed expiration' } : null;
}
