/**
 * Claim checks on a verified token (or an introspection response), with Kong's semantics:
 * - time: `exp`, `nbf`, `iat`, `auth_time` + `max_age`, each with `leeway`;
 * - issuer: `iss` equal to the issuer or one of `issuers_allowed`;
 * - `claims_forbidden`;
 * - `{audience,scopes,groups,roles}_required`: each list element is an alternative (OR), the
 *   space-separated values inside an element are all required (AND); the token's claim (found by a
 *   `*_claim` path) may be a space-separated string, an array or a scalar.
 */
import { AuthFailure } from './responses.js';
import type { Claims } from './verify-jwt.js';

export interface TimeRules {
  readonly leewaySeconds: number;
  readonly maxAgeSeconds: number | null;
  /** JWTs must carry `exp`; introspection responses may omit it (the IdP said active). */
  readonly requireExp: boolean;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks `exp`, `nbf`, `iat` and `max_age` at `nowSeconds`. */
export function checkTimeClaims(claims: Claims, rules: TimeRules, nowSeconds: number): void {
  const leeway = rules.leewaySeconds;
  const { exp, nbf, iat } = claims;
  if (exp === undefined) {
    if (rules.requireExp) throw new AuthFailure('exp_missing');
  } else if (!isNumber(exp)) {
    throw new AuthFailure('claim_invalid', 'exp is not a number');
  } else if (nowSeconds >= exp + leeway) {
    throw new AuthFailure('token_expired', `exp ${exp}, now ${Math.floor(nowSeconds)}`);
  }
  if (nbf !== undefined) {
    if (!isNumber(nbf)) throw new AuthFailure('claim_invalid', 'nbf is not a number');
    if (nowSeconds + leeway < nbf) throw new AuthFailure('token_not_yet_valid', `nbf ${nbf}, now ${Math.floor(nowSeconds)}`);
  }
  if (iat !== undefined) {
    if (!isNumber(iat)) throw new AuthFailure('claim_invalid', 'iat is not a number');
    if (nowSeconds + leeway < iat) throw new AuthFailure('token_issued_in_future', `iat ${iat}, now ${Math.floor(nowSeconds)}`);
  }
  if (rules.maxAgeSeconds !== null) {
    const authTime = claims.auth_time;
    if (!isNumber(authTime)) throw new AuthFailure('max_age_exceeded', 'no auth_time claim');
    if (nowSeconds > authTime + rules.maxAgeSeconds + leeway) throw new AuthFailure('max_age_exceeded', `auth_time ${authTime}`);
  }
}

/** Checks `iss` against the issuer and `issuers_allowed` (trailing slashes ignored). */
export function checkIssuer(claims: Claims, allowed: readonly string[], required: boolean): void {
  const iss = claims.iss;
  if (iss === undefined && !required) return;
  if (typeof iss !== 'string') throw new AuthFailure('issuer_mismatch', 'no iss claim');
  const norm = (s: string): string => s.replace(/\/+$/, '');
  if (!allowed.some((a) => norm(a) === norm(iss))) throw new AuthFailure('issuer_mismatch', `iss '${iss.slice(0, 200)}'`);
}

export function checkForbiddenClaims(claims: Claims, forbidden: readonly string[] | null): void {
  for (const name of forbidden ?? []) {
    if (Object.hasOwn(claims, name)) throw new AuthFailure('claim_forbidden', name);
  }
}

/** The value at a claim path (`['realm_access', 'roles']`), or undefined. */
export function claimAt(claims: Claims, path: readonly string[]): unknown {
  let value: unknown = claims;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** A claim value as a set of strings: space-separated string, array of scalars, or one scalar. */
export function claimValues(value: unknown): Set<string> {
  if (typeof value === 'string') return new Set(value.split(' ').filter((v) => v !== ''));
  if (Array.isArray(value)) return new Set(value.filter((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean').map(String));
  if (typeof value === 'number' || typeof value === 'boolean') return new Set([String(value)]);
  return new Set();
}

/** Whether `present` satisfies Kong's rule: some element whose space-separated values are all present. */
export function satisfiesRequirement(required: readonly string[], present: ReadonlySet<string>): boolean {
  return required.some((alternative) => {
    const needed = alternative.split(' ').filter((v) => v !== '');
    return needed.length > 0 && needed.every((v) => present.has(v));
  });
}

export interface Requirement {
  readonly required: readonly string[] | null;
  readonly claim: readonly string[];
}

export interface Requirements {
  readonly audience: Requirement;
  readonly scopes: Requirement;
  readonly groups: Requirement;
  readonly roles: Requirement;
}

/** Checks the four `*_required` rules; a failure is a 403. */
export function checkRequirements(claims: Claims, rules: Requirements): void {
  const check = (rule: Requirement, reason: 'audience_mismatch' | 'scope_insufficient' | 'groups_insufficient' | 'roles_insufficient'): void => {
    if (rule.required === null || rule.required.length === 0) return;
    if (satisfiesRequirement(rule.required, claimValues(claimAt(claims, rule.claim)))) return;
    throw new AuthFailure(reason, `needs ${rule.required.map((r) => `[${r}]`).join(' or ')} in ${rule.claim.join('.')}`, {
      requiredScope: reason === 'scope_insufficient' ? rule.required[0] : undefined,
    });
  };
  check(rules.audience, 'audience_mismatch');
  check(rules.scopes, 'scope_insufficient');
  check(rules.groups, 'groups_insufficient');
  check(rules.roles, 'roles_insufficient');
}
