/**
 * The value a consistent-hashing upstream hashes for one request, as Kong's `get_value_to_hash`
 * (`kong/runloop/balancer/init.lua`): `hash_on`, then `hash_fallback` when the first gives nothing.
 * Computed once per request, so every retry hashes the same value.
 *
 * - `consumer`: the authenticated consumer's id, else the credential's;
 * - `ip`: the client address (the one X-Real-IP carries: the peer, or what a trusted proxy says);
 * - `header`: the header's value (repeated headers joined, as nginx does);
 * - `cookie`: the cookie's value; when the request has none, a new UUID that the response sets
 *   (`Set-Cookie: <name>=<uuid>; Path=<hash_on_cookie_path>; Same-Site=Lax; HttpOnly`, Kong's words);
 * - `path`: the request path as received, without the query;
 * - `query_arg`: the query argument (repeated ones joined with `,`);
 * - `uri_capture`: the named capture of the route's regex path that matched.
 */
import { randomUUID } from 'node:crypto';
import type { HashOn, Route, Upstream } from '../config/types.js';
import { compilePcre } from '../config/pcre.js';
import type { HeaderMap, RequestContext } from '../pipeline/context.js';
import { joined } from './headers.js';

export interface HashValue {
  readonly value: string | null;
  /** A cookie to set on the response: the request had none to hash on. */
  readonly setCookie: string | null;
}

const NONE: HashValue = { value: null, setCookie: null };

/** The value to hash for `ctx`, or a null value when the upstream does not hash (or nothing was found). */
export function hashValueOf(upstream: Upstream, ctx: RequestContext, clientAddress: string): HashValue {
  if (upstream.hash_on === 'none') return NONE;
  const first = sourceValue(upstream, upstream.hash_on, 'on', ctx, clientAddress);
  if (first !== null) return { value: first, setCookie: null };
  if (upstream.hash_on === 'cookie') {
    // Kong never falls back from a cookie: it makes one.
    const value = randomUUID();
    return { value, setCookie: `${upstream.hash_on_cookie}=${value}; Path=${upstream.hash_on_cookie_path}; Same-Site=Lax; HttpOnly` };
  }
  if (upstream.hash_fallback === 'none') return NONE;
  return { value: sourceValue(upstream, upstream.hash_fallback, 'fallback', ctx, clientAddress), setCookie: null };
}

function sourceValue(upstream: Upstream, source: HashOn, which: 'on' | 'fallback', ctx: RequestContext, clientAddress: string): string | null {
  switch (source) {
    case 'none':
      return null;
    case 'consumer':
      return ctx.identity?.consumer?.id ?? ctx.identity?.credentialId ?? null;
    case 'ip':
      return clientAddress;
    case 'header':
      return joined(ctx.request.headers[(which === 'on' ? upstream.hash_on_header : upstream.hash_fallback_header) ?? '']) ?? null;
    case 'cookie':
      return cookieValue(ctx.request.headers.cookie, upstream.hash_on_cookie ?? '');
    case 'path':
      return ctx.request.path;
    case 'query_arg': {
      const name = which === 'on' ? upstream.hash_on_query_arg : upstream.hash_fallback_query_arg;
      const values = new URLSearchParams(ctx.request.query).getAll(name ?? '');
      return values.length === 0 ? null : values.join(',');
    }
    case 'uri_capture':
      return uriCapture(ctx.route, ctx.request.path, (which === 'on' ? upstream.hash_on_uri_capture : upstream.hash_fallback_uri_capture) ?? '');
  }
}

/** A cookie's value from a Cookie header (`a=1; b=2`), or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined || name === '') return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The named group of the first regex path of the route that matches `path`. */
function uriCapture(route: Route, path: string, group: string): string | null {
  for (const regex of regexPathsOf(route)) {
    const match = regex.exec(path);
    if (match?.groups?.[group] !== undefined) return match.groups[group];
  }
  return null;
}

/** A route's regex paths, compiled once per route of a configuration (routes are frozen, so a WeakMap keeps them). */
const compiledPaths = new WeakMap<Route, readonly RegExp[]>();

function regexPathsOf(route: Route): readonly RegExp[] {
  let regexes = compiledPaths.get(route);
  if (regexes === undefined) {
    regexes = (route.paths ?? []).flatMap((pattern) => {
      if (!pattern.startsWith('~')) return [];
      const compiled = compilePcre(pattern.slice(1));
      // Anchored as the router anchors it (router/compile-route.ts); no g/y, so exec keeps no state.
      return compiled.ok ? [new RegExp(`^(?:${compiled.regex.source})`, compiled.regex.flags.replace(/[gy]/g, ''))] : [];
    });
    compiledPaths.set(route, regexes);
  }
  return regexes;
}

/** Kong's `set_cookie`: replaces a Set-Cookie of the upstream's for the same name, else adds one. */
export function setHashCookie(headers: HeaderMap, cookie: string): void {
  const prefix = cookie.slice(0, cookie.indexOf('=') + 1);
  const existing = headers['set-cookie'];
  const list = existing === undefined ? [] : Array.isArray(existing) ? [...existing] : [existing];
  const at = list.findIndex((c) => c.startsWith(prefix));
  if (at >= 0) list[at] = cookie;
  else list.push(cookie);
  headers['set-cookie'] = list.length === 1 ? list[0]! : list;
}
