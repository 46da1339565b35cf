/**
 * Host names as Kong accepts them in services (a host or an IP), routes (one `*` wildcard as the
 * leftmost or rightmost label, optional `:port`) and SNIs (like route hosts without a port or IP).
 * Each check returns an error message, or null when the name is fine.
 */
import { isIP, isIPv6 } from 'node:net';

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i;

function isHostname(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  return bare.length > 0 && bare.length <= 253 && bare.split('.').every((label) => LABEL.test(label));
}

function checkWildcard(name: string): string | null {
  const stars = name.split('*').length - 1;
  if (stars === 0) return isHostname(name) ? null : 'must be a valid host name';
  if (stars > 1) return 'invalid wildcard: must have at most one wildcard';
  const rest = name.startsWith('*.') ? name.slice(2) : name.endsWith('.*') ? name.slice(0, -2) : null;
  if (rest === null) return 'invalid wildcard: must be placed at leftmost or rightmost label';
  return isHostname(rest) ? null : 'must be a valid host name';
}

/** A service's upstream host: a host name or an IP address (IPv6 bare or in brackets). */
export function checkUpstreamHost(host: string): string | null {
  if (isIP(host) !== 0) return null;
  if (host.startsWith('[') && host.endsWith(']') && isIPv6(host.slice(1, -1))) return null;
  return isHostname(host) ? null : 'must be a valid host name or IP address';
}

/** A route's `hosts` entry: `example.com`, `*.example.com`, `example.*`, each with an optional `:port`. */
export function checkRouteHost(host: string): string | null {
  let name = host;
  const withPort = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(host);
  if (withPort?.[1] !== undefined && withPort[2] !== undefined) {
    const port = Number(withPort[2]);
    if (port < 1 || port > 65535) return 'invalid port number';
    name = withPort[1];
  }
  if (name.startsWith('[') && name.endsWith(']')) return isIPv6(name.slice(1, -1)) ? null : 'must be a valid IPv6 address';
  if (isIP(name) !== 0) return null;
  return checkWildcard(name);
}

/**
 * A TLS server name: a host name with an optional leading or trailing wildcard label, never an IP.
 * Certificates may also use `*` alone, the certificate served when nothing else matches.
 */
export function checkSni(name: string, allowCatchAll: boolean): string | null {
  if (name === '*') return allowCatchAll ? null : "'*' is only allowed in certificate snis";
  if (isIP(name) !== 0) return 'must not be an IP address';
  if (name.includes(':')) return 'must not have a port';
  return checkWildcard(name);
}

