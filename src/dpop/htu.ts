/**
 * The `htu` comparison of RFC 9449 §4.3: the proof's URI and the request's target URI, both
 * without query and fragment, after RFC 3986 §6.2.2 syntax-based and §6.2.3 scheme-based
 * normalisation: scheme and host case, default port, dot segments, empty path (WHATWG URL parsing
 * does these), plus percent-encoding case and unreserved characters decoded (which it does not).
 */
import type { GatewayRequest } from '../pipeline/context.js';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };
const UNRESERVED = /[A-Za-z0-9\-._~]/;
/**
 * host[:port] as RFC 3986 §3.2.2 allows it, nothing more: a Host header such as `gw/other?` would
 * otherwise move path or query into the URI compared with the proof.
 */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{0,5})?$/;

/** The normalised form of an http(s) URI without query and fragment, or null when it is not one (or carries userinfo). */
export function normaliseHtu(uri: string): string | null {
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

/** The first entry of a forwarding header (a proxy chain may list several, comma-separated). */
function firstForwarded(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const first = text?.split(',')[0]?.trim();
  return first === undefined || first === '' ? undefined : first;
}

/**
 * The URI the client used for this request, as an `htu` is compared with: the scheme of the
 * listener, the authority the client sent (absolute-form target or Host), the original path
 * (before any `strip_path`). From a trusted proxy (`--trusted-ips`) its X-Forwarded-Proto, -Host
 * and -Port replace them, as the client connected to that proxy. Null when no valid URI results.
 */
export function requestHtu(request: GatewayRequest): string | null {
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
  return normaliseHtu(`${scheme}://${authority}${request.path.startsWith('/') ? request.path : `/${request.path}`}`);
}

function withoutPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end === -1 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}
