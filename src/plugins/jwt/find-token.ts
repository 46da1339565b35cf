/**
 * Where jwt looks for a token (kong/plugins/jwt/handler.lua, retrieve_tokens): every value of each
 * of `uri_param_names`, then each of `cookie_names`, then the first value of each of
 * `header_names` as `Bearer <token>` (the scheme found anywhere in the value, as Kong's unanchored
 * regex does). Empty values are skipped; the same token found twice counts once, two different
 * ones are "Multiple tokens provided". The token is never removed from the upstream request: Kong
 * passes it on.
 */
import type { RequestContext } from '../../pipeline/context.js';
import type { JwtConfig } from './schema.js';

export type TokenLookup = { readonly found: 'none' } | { readonly found: 'one'; readonly token: string } | { readonly found: 'several' };

const BEARER = /\s*[Bb]earer\s+(.+)/;

/** The value of the first cookie named `name` in a Cookie header, unparsed as nginx's `$cookie_<name>`. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** The token of a `Bearer` header value, or undefined. */
export function bearerToken(value: string): string | undefined {
  return BEARER.exec(value)?.[1];
}

/** Every token the request carries where the plugin looks, de-duplicated. */
export function lookUpToken(ctx: RequestContext, config: JwtConfig): TokenLookup {
  const tokens = new Set<string>();
  const add = (token: string | undefined): void => {
    if (token !== undefined && token !== '') tokens.add(token);
  };
  const query = ctx.request.query === '' ? null : new URLSearchParams(ctx.request.query);
  for (const name of config.uri_param_names) for (const value of query?.getAll(name) ?? []) add(value);
  const cookies = ctx.request.headers.cookie;
  for (const name of config.cookie_names) add(cookieValue(cookies, name));
  for (const name of config.header_names) {
    const header = ctx.request.headers[name.toLowerCase()];
    const value = Array.isArray(header) ? header[0] : header;
    if (value !== undefined) add(bearerToken(value));
  }
  if (tokens.size === 0) return { found: 'none' };
  if (tokens.size > 1) return { found: 'several' };
  const [token] = tokens;
  return { found: 'one', token: token ?? '' };
}
