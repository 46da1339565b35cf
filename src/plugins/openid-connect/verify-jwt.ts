/**
 * Stateless verification of a JWS compact-serialised access token (RFC 7515, RFC 8725):
 * - the header is parsed strictly (three base64url segments, a JSON object) before anything else;
 * - `alg` must be an asymmetric algorithm that fits the chosen key; HS* only with
 *   `enable_hs_signatures`, and then only with the client secret; `none` never;
 * - keys come only from the issuer's JWKS, by `kid` and key type: `jku`, `x5u`, `x5c` and `jwk`
 *   headers are never used to find a key;
 * - any `crit` header is refused (no extension is understood);
 * - `typ` must be one of the accepted values;
 * - the signature is checked with node:crypto (see jwks.ts); the payload must be a JSON object, and no
 *   claim in it is looked at before the signature verified.
 * Every failure is an `AuthFailure` (401 `invalid_token`), never an exception that becomes a 500.
 */
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS } from '../../util/jws-algorithms.js';
import type { HmacSecret, IssuerKey, SignatureKey } from './jwks.js';
import { AuthFailure } from './responses.js';

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export interface JwtHeader {
  readonly alg: string;
  readonly kid: string | undefined;
  readonly typ: string | undefined;
}

export type Claims = Readonly<Record<string, unknown>>;

/** Whether a token has the shape of a JWS (three dot-separated parts); used to pick bearer vs introspection. */
export function looksLikeJwt(token: string): boolean {
  let dots = 0;
  for (let i = 0; i < token.length; i++) if (token.charCodeAt(i) === 46) dots++;
  return dots === 2;
}

/** Parses and checks the protected header. */
export function parseJwtHeader(token: string, options: { hsAllowed: boolean; typAllowed: readonly string[] }): JwtHeader {
  const parts = token.split('.');
  if (parts.length === 5) throw new AuthFailure('token_malformed', 'encrypted tokens (JWE) are not accepted');
  if (parts.length !== 3) throw new AuthFailure('token_malformed', `${parts.length} segments`);
  const [encodedHeader, encodedPayload, signature] = parts as [string, string, string];
  if (!SEGMENT.test(encodedHeader) || !SEGMENT.test(encodedPayload) || !SEGMENT.test(signature)) {
    // An empty signature (alg none, or a stripped signature) lands here too.
    throw new AuthFailure('token_malformed', 'a segment is empty or not base64url');
  }
  const header = decodeJsonObject(encodedHeader, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string') throw new AuthFailure('token_malformed', 'header has no alg');
  if (HMAC_ALGORITHMS.has(alg)) {
    if (!options.hsAllowed) throw new AuthFailure('alg_not_allowed', `${alg} (enable_hs_signatures is off)`);
  } else if (!ASYMMETRIC_ALGORITHMS.has(alg)) {
    throw new AuthFailure('alg_not_allowed', alg.slice(0, 32));
  }
  if (header.crit !== undefined) throw new AuthFailure('crit_unsupported', Array.isArray(header.crit) ? header.crit.map(String).join(', ').slice(0, 100) : 'crit');
  if (header.b64 !== undefined) throw new AuthFailure('token_malformed', 'b64 header without crit');
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) throw new AuthFailure('token_malformed', 'kid is not a non-empty string');
  const typ = header.typ;
  if (typ !== undefined && typeof typ !== 'string') throw new AuthFailure('token_malformed', 'typ is not a string');
  if (!typAccepted(typ, options.typAllowed)) throw new AuthFailure('typ_not_allowed', String(typ).slice(0, 64));
  return { alg, kid, typ };
}

/** RFC 7515 §4.1.9: compare case-insensitively, with `application/` optional; absent means `JWT`. */
export function typAccepted(typ: string | undefined, allowed: readonly string[]): boolean {
  const norm = (v: string): string => v.toLowerCase().replace(/^application\//, '');
  const value = norm(typ ?? 'JWT');
  return allowed.some((a) => norm(a) === value);
}

/**
 * Verifies the signature with the given candidate keys (issuer keys for asymmetric algorithms,
 * client secrets for HS*) and returns the payload claims, parsed only once a signature verified.
 * The token was split and checked by parseJwtHeader.
 */
export function verifyJwtSignature(token: string, header: JwtHeader, keys: readonly IssuerKey[], secrets: readonly HmacSecret[]): Claims {
  const candidates: readonly SignatureKey[] = HMAC_ALGORITHMS.has(header.alg) ? secrets : keys;
  if (candidates.length === 0) throw new AuthFailure('key_not_found', header.kid === undefined ? `no ${header.alg} key` : `kid ${header.kid.slice(0, 64)}`);
  const last = token.lastIndexOf('.');
  const signingInput = token.slice(0, last);
  const signature = Buffer.from(token.slice(last + 1), 'base64url');
  let unusable: unknown;
  for (const candidate of candidates) {
    let verified: boolean;
    try {
      verified = candidate.verify(header.alg, signingInput, signature);
    } catch (error) {
      // A key that cannot be used with this alg (e.g. RSA below 2048 bits): try the next one.
      unusable = error;
      continue;
    }
    // Kong 3.9 answered a JSON `null` payload with a 500; it is simply not a claims set.
    if (verified) return decodeJsonObject(token.slice(token.indexOf('.') + 1, last), 'payload');
  }
  if (unusable !== undefined) throw new AuthFailure('signature_invalid', unusable instanceof Error ? unusable.message.slice(0, 120) : undefined, { cause: unusable });
  throw new AuthFailure('signature_invalid');
}

function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw new AuthFailure('token_malformed', `${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AuthFailure('token_malformed', `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}
