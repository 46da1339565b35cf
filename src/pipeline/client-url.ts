/**
 * The URL the client used for a request, as an RFC 9449 `htu` and an RFC 9728 `resource` name it:
 * the scheme of the listener and the authority the client sent (absolute-form target or Host), or,
 * from a trusted proxy (`--trusted-ips`), its X-Forwarded-Proto, -Host and -Port, since the client
 * connected to that proxy. Normalised as RFC 3986 §6.2.2 (syntax-based) and §6.2.3 (scheme-based)
 * describe: scheme and host case, default port, dot segments, empty path (WHATWG URL parsing does
 * these), plus percent-encoding case and unreserved characters decoded (which it does not).
 */
import type { GatewayRequest } from './context.js';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };
const UNRESERVED = /[A-Za-z0-9\-._~]/;
/**
 * host[:port] as RFC 3986 §3.2.2 allows it, nothing more: a Host header such as `gw/other?` would
 * otherwise move path or query into the URI built from it.
 */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{0,5})?$/;

/** What the client-facing URL is built from. */
export type ClientUrlParts = Pick<GatewayRequest, 'scheme' | 'authority' | 'trustedPeer' | 'headers'>;

/** The normalised form of an http(s) URI without query and fragment, or null when it is not one (or carries userinfo). */
export function normaliseHttpUri(uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '' || url.hostname === '') return null;
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}

/**
 * The client-facing URL of `path` (the original request path, before any `strip_path`), normalised,
 * without query; null when no valid URL results (no or a malformed authority).
 */
export function clientFacingUrl(request: ClientUrlParts, path: string): string | null {
  let scheme: string = request.scheme;
  let authority = request.authority;
  if (request.trustedPeer) {
    const headers = request.headers;
    const proto = firstForwarded(headers['x-forwarded-proto'])?.toLowerCase();
    if (proto === 'http' || proto === 'https') scheme = proto;
    authority = firstForwarded(headers['x-forwarded-host']) ?? authority;
    const port = firstForwarded(headers['x-forwarded-port']);
    if (port !== undefined && /^\d{1,5}$/.test(port)) authority = `${withoutPort(authority)}${Number(port) === DEFAULT_PORTS[scheme] ? '' : `:${port}`}`;
  }
  if (!AUTHORITY.test(authority)) return null;
  return normaliseHttpUri(`${scheme}://${authority}${path.startsWith('/') ? path : `/${path}`}`);
}

/**
 * The first entry of a forwarding header: a proxy chain lists the client-facing hop first. (The
 * upstream request passes the whole value on, as Kong does; only the URL needs the first hop.)
 */
function firstForwarded(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const first = text?.split(',')[0]?.trim();
  return first === undefined || first === '' ? undefined : first;
}

function withoutPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end === -1 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}
