/**
 * Kong's reading of a token before any key is chosen (kong/plugins/jwt/jwt_parser.lua,
 * decode_token): three base64url segments, a JSON header whose `alg` is one Kong knows, a JSON
 * claims object, a decodable signature. Each failure has Kong's wording, which the 401 carries as
 * "Bad token; <reason>". Nothing here is trusted until the signature is checked.
 */
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../../config/types.js';

export interface ParsedToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly alg: JwtAlgorithm;
  /** `header.claims`, the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

export type ParseResult = { readonly ok: true; readonly token: ParsedToken } | { readonly ok: false; readonly reason: 'invalid JSON' | 'invalid alg' | 'invalid claims' | 'invalid signature' };

const KNOWN_ALGORITHMS: ReadonlySet<string> = new Set(JWT_ALGORITHMS);
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Strict base64url (padding optional), as ngx.base64's decoder: null for anything else. */
function decodeSegment(segment: string | undefined): Buffer | null {
  if (segment === undefined || !BASE64URL.test(segment) || segment.replace(/=+$/, '').length % 4 === 1) return null;
  return Buffer.from(segment, 'base64url');
}

function jsonOf(bytes: Buffer | null): { ok: true; value: unknown } | { ok: false } {
  if (bytes === null) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits and decodes a token as Kong does (a third dot and what follows belong to the signature segment). */
export function parseToken(token: string): ParseResult {
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1) return { ok: false, reason: 'invalid JSON' };
  const header = jsonOf(decodeSegment(token.slice(0, first)));
  const claims = jsonOf(decodeSegment(token.slice(first + 1, second)));
  if (!header.ok || !claims.ok) return { ok: false, reason: 'invalid JSON' };
  const alg = isObject(header.value) ? header.value.alg : undefined;
  if (typeof alg !== 'string' || !KNOWN_ALGORITHMS.has(alg) || !isObject(header.value)) return { ok: false, reason: 'invalid alg' };
  if (!isObject(claims.value)) return { ok: false, reason: 'invalid claims' };
  const signature = decodeSegment(token.slice(second + 1));
  if (signature === null) return { ok: false, reason: 'invalid signature' };
  return { ok: true, token: { header: header.value, claims: claims.value, alg: alg as JwtAlgorithm, signingInput: token.slice(0, second), signature } };
}
