/**
 * Finding the access token in a request, as Kong's `bearer_token_param_type` says: the
 * `Authorization: Bearer` header (scheme case-insensitive, RFC 9110 §11.1), Kong's `access-token`
 * and `x-access-token` headers, the `access_token` query argument, a cookie, or the `access_token`
 * member of a form or JSON body (RFC 6750 §2.2). Two different tokens in one request are an
 * `invalid_request` (RFC 6750 §2: one method per request).
 *
 * The body is the expensive place (it must be buffered), so it is looked at last and only when no
 * other place had a token: `extractToken` covers header, query and cookie; `bodyFieldsFormat`
 * (src/pipeline/body-fields.ts) says whether the body can hold one; `extractBodyToken` reads it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from '../../pipeline/context.js';
import { ownHeader } from '../../util/own-header.js';
import { jsonMember, withoutBodyField, withoutParameter, type BodyFormat } from '../../pipeline/body-fields.js';
import { AuthFailure } from './responses.js';

export type TokenLocation = 'header' | 'query' | 'cookie' | 'body';

/** One place a token was found. */
export interface TokenPlace {
  readonly token: string;
  readonly location: TokenLocation;
  /** Header or cookie name (lower-case header name); `access_token` for query and body. */
  readonly name: string;
  /** For a body token: the body's format. */
  readonly bodyFormat?: BodyFormat;
  /** For `Authorization`: the scheme it came with (RFC 9449 §7.1: a DPoP-bound token comes as `DPoP`). */
  readonly scheme?: 'bearer' | 'dpop';
}

/** The request's token: its first place, plus every place it was repeated in (`hide_credentials` removes them all). */
export interface FoundToken extends TokenPlace {
  readonly places: readonly TokenPlace[];
}

export interface ExtractOptions {
  readonly paramTypes: readonly string[];
  /** Only this header (lower-case), Kong's `bearer_token_header_name`. */
  readonly headerName: string | null;
  readonly cookieName: string | null;
  /** Longest token accepted, in characters. */
  readonly maxLength: number;
  /** Also read `Authorization: DPoP <token>` (DPoP enabled). */
  readonly dpopScheme?: boolean;
}

// RFC 6750 §2.1 b64token (token68): what a JWT or an opaque token may consist of.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const KONG_TOKEN_HEADERS = ['access-token', 'x-access-token'];
const PARAMETER = 'access_token';

/** The request's token, or null when it carries none. Throws `AuthFailure` for malformed or conflicting tokens. */
export function extractToken(headers: IncomingHttpHeaders, query: string, options: ExtractOptions): FoundToken | null {
  const found: TokenPlace[] = [];
  if (options.paramTypes.includes('header')) {
    if (options.headerName !== null) {
      fromHeader(headers, options.headerName, options.headerName === 'authorization', found, options.dpopScheme === true);
    } else {
      fromHeader(headers, 'authorization', true, found, options.dpopScheme === true);
      for (const name of KONG_TOKEN_HEADERS) fromHeader(headers, name, false, found, false);
    }
  }
  // A percent-encoded name (`access%5Ftoken`) counts too, as URLSearchParams decodes it.
  if (options.paramTypes.includes('query') && query !== '' && (query.includes(PARAMETER) || query.includes('%'))) {
    for (const value of new URLSearchParams(query).getAll(PARAMETER)) found.push({ token: value, location: 'query', name: PARAMETER });
  }
  if (options.paramTypes.includes('cookie') && options.cookieName !== null) {
    for (const value of cookieValues(headers.cookie, options.cookieName)) found.push({ token: value, location: 'cookie', name: options.cookieName });
  }
  return chooseToken(found, options.maxLength);
}

/**
 * The `access_token` of a buffered body, or null. A JSON body that does not parse, is not an
 * object, or has `"access_token": null` carries no token (never a 500, Kong 3.9.0.0's bug); a
 * non-string value is malformed.
 */
export function extractBodyToken(body: Buffer, format: BodyFormat, maxLength: number): FoundToken | null {
  const found: TokenPlace[] = [];
  if (format === 'form') {
    if (!body.includes(PARAMETER) && !body.includes('%')) return null;
    for (const value of new URLSearchParams(body.toString('utf8')).getAll(PARAMETER)) found.push({ token: value, location: 'body', name: PARAMETER, bodyFormat: 'form' });
  } else {
    const value = jsonMember(body, PARAMETER);
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') throw new AuthFailure('token_malformed', `access_token in the JSON body is a ${Array.isArray(value) ? 'list' : typeof value}`);
    found.push({ token: value, location: 'body', name: PARAMETER, bodyFormat: 'json' });
  }
  return chooseToken(found, maxLength);
}

/** One token out of the candidates, or a refusal when they differ or the token is unusable. */
function chooseToken(found: readonly TokenPlace[], maxLength: number): FoundToken | null {
  if (found.length === 0) return null;
  const first = found[0]!;
  if (found.some((f) => f.token !== first.token)) throw new AuthFailure('multiple_tokens', `found in ${describe(found)}`);
  if (first.token.length > maxLength) throw new AuthFailure('token_too_large', `${first.token.length} characters`);
  if (!TOKEN68.test(first.token)) throw new AuthFailure('token_malformed', `not a token68 value (${first.location})`);
  return { ...first, places: found };
}

function fromHeader(headers: IncomingHttpHeaders, name: string, schemeRequired: boolean, out: TokenPlace[], dpopScheme: boolean): void {
  const raw = ownHeader(headers, name);
  if (raw === undefined) return;
  for (const value of Array.isArray(raw) ? raw : [raw]) {
    const trimmed = value.trim();
    const space = trimmed.search(/[ \t]/);
    const scheme = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
    if (scheme === 'bearer' || (dpopScheme && scheme === 'dpop')) {
      // `Bearer` with nothing after it is a malformed credential, not an absent one.
      const token = space === -1 ? '' : trimmed.slice(space).trim();
      if (token === '') throw new AuthFailure('token_malformed', `empty ${scheme === 'dpop' ? 'DPoP' : 'Bearer'} credential in ${name}`);
      out.push({ token, location: 'header', name, scheme });
    } else if (!schemeRequired && trimmed !== '') {
      out.push({ token: trimmed, location: 'header', name });
    }
    // Another scheme (Basic, or DPoP with DPoP off) in Authorization is not ours to read.
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

function describe(found: readonly TokenPlace[]): string {
  return [...new Set(found.map((f) => `${f.location} ${f.name}`))].join(', ');
}

/**
 * Removes the presented credential from what goes upstream (`hide_credentials`), wherever the
 * request repeated it: the header, the cookie, every `access_token` query argument (the other
 * arguments keep their exact bytes), the `access_token` of a buffered form or JSON body
 * (Content-Length follows the new body).
 */
export function hideCredential(ctx: RequestContext, found: FoundToken): void {
  for (const place of found.places) hidePlace(ctx, place);
}

function hidePlace(ctx: RequestContext, found: TokenPlace): void {
  const upstreamHeaders = ctx.upstreamHeaders;
  switch (found.location) {
    case 'header':
      delete upstreamHeaders[found.name];
      return;
    case 'cookie': {
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
      return;
    }
    case 'query':
      ctx.upstreamQuery = withoutParameter(ctx.upstreamQuery, PARAMETER);
      return;
    case 'body': {
      const body = ctx.upstreamBody;
      if (body === null) return;
      ctx.upstreamBody = withoutBodyField(body, found.bodyFormat ?? 'form', PARAMETER);
      return;
    }
  }
}
