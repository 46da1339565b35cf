/**
 * Finding the access token in a request, as Kong's `bearer_token_param_type` says: the
 * `Authorization: Bearer` header (scheme case-insensitive, RFC 9110 §11.1), Kong's `access-token`
 * and `x-access-token` headers, the `access_token` query argument, or a cookie. Two different tokens
 * in one request are an `invalid_request` (RFC 6750 §2: one method per request).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AuthFailure } from './responses.js';

export type TokenLocation = 'header' | 'query' | 'cookie';

export interface FoundToken {
  readonly token: string;
  /** Where it was, so `hide_credentials` can remove it. */
  readonly location: TokenLocation;
  /** Header or cookie name (lower-case header name). */
  readonly name: string;
}

export interface ExtractOptions {
  readonly paramTypes: readonly string[];
  /** Only this header (lower-case), Kong's `bearer_token_header_name`. */
  readonly headerName: string | null;
  readonly cookieName: string | null;
  /** Longest token accepted, in characters. */
  readonly maxLength: number;
}

// RFC 6750 §2.1 b64token (token68): what a JWT or an opaque token may consist of.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const KONG_TOKEN_HEADERS = ['access-token', 'x-access-token'];

/** The request's token, or null when it carries none. Throws `AuthFailure` for malformed or conflicting tokens. */
export function extractToken(headers: IncomingHttpHeaders, query: string, options: ExtractOptions): FoundToken | null {
  const found: FoundToken[] = [];
  if (options.paramTypes.includes('header')) {
    if (options.headerName !== null) {
      fromHeader(headers, options.headerName, options.headerName === 'authorization', found);
    } else {
      fromHeader(headers, 'authorization', true, found);
      for (const name of KONG_TOKEN_HEADERS) fromHeader(headers, name, false, found);
    }
  }
  if (options.paramTypes.includes('query') && query !== '' && query.includes('access_token')) {
    for (const value of new URLSearchParams(query).getAll('access_token')) found.push({ token: value, location: 'query', name: 'access_token' });
  }
  if (options.paramTypes.includes('cookie') && options.cookieName !== null) {
    for (const value of cookieValues(headers.cookie, options.cookieName)) found.push({ token: value, location: 'cookie', name: options.cookieName });
  }
  if (found.length === 0) return null;
  const first = found[0]!;
  if (found.some((f) => f.token !== first.token)) throw new AuthFailure('multiple_tokens', `found in ${describe(found)}`);
  if (first.token.length > options.maxLength) throw new AuthFailure('token_too_large', `${first.token.length} characters`);
  if (!TOKEN68.test(first.token)) throw new AuthFailure('token_malformed', `not a token68 value (${first.location})`);
  return first;
}

function fromHeader(headers: IncomingHttpHeaders, name: string, schemeRequired: boolean, out: FoundToken[]): void {
  const raw = headers[name];
  if (raw === undefined) return;
  for (const value of Array.isArray(raw) ? raw : [raw]) {
    const trimmed = value.trim();
    const space = trimmed.search(/[ \t]/);
    const scheme = space === -1 ? trimmed : trimmed.slice(0, space);
    if (scheme.toLowerCase() === 'bearer') {
      // `Bearer` with nothing after it is a malformed credential, not an absent one.
      const token = space === -1 ? '' : trimmed.slice(space).trim();
      if (token === '') throw new AuthFailure('token_malformed', `empty Bearer credential in ${name}`);
      out.push({ token, location: 'header', name });
    } else if (!schemeRequired && trimmed !== '') {
      out.push({ token: trimmed, location: 'header', name });
    }
    // Another scheme (Basic, DPoP…) in Authorization is not ours to read.
  }
}

function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value !== '') out.push(value);
  }
  return out;
}

function describe(found: readonly FoundToken[]): string {
  return [...new Set(found.map((f) => `${f.location} ${f.name}`))].join(', ');
}

/** Removes the presented credential from what goes upstream (`hide_credentials`). */
export function hideCredential(upstreamHeaders: Record<string, string | string[]>, found: FoundToken): void {
  if (found.location === 'header') {
    delete upstreamHeaders[found.name];
  } else if (found.location === 'cookie') {
    const raw = upstreamHeaders['cookie'];
    const value = Array.isArray(raw) ? raw.join('; ') : raw;
    if (value === undefined) return;
    const kept = value
      .split(';')
      .filter((part) => part.slice(0, Math.max(part.indexOf('='), 0)).trim() !== found.name)
      .map((p) => p.trim())
      .filter((p) => p !== '');
    if (kept.length === 0) delete upstreamHeaders['cookie'];
    else upstreamHeaders['cookie'] = kept.join('; ');
  }
  // A query-string token cannot be removed: the core does not let plugins rewrite the upstream query yet.
}
