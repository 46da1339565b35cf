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

/** A host with an optional port, as Kong's `normalize_ip` reads it; null when it is not one. */
export interface HostAndPort {
  readonly host: string;
  readonly port: number | null;
  readonly kind: 'ipv4' | 'ipv6' | 'name';
}

/**
 * Splits `host[:port]`: a name or IPv4 address with an optional port, an IPv6 address in brackets
 * with an optional port, or a bare IPv6 address (which cannot carry one). The port is 1–65535.
 */
export function parseHostAndPort(text: string): HostAndPort | null {
  if (isIPv6(text)) return { host: text.toLowerCase(), port: null, kind: 'ipv6' };
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed?.[1] !== undefined) {
    if (!isIPv6(bracketed[1])) return null;
    const port = portOf(bracketed[2]);
    return port === undefined ? null : { host: bracketed[1].toLowerCase(), port, kind: 'ipv6' };
  }
  const plain = /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
  if (plain?.[1] === undefined) return null;
  const port = portOf(plain[2]);
  if (port === undefined) return null;
  const host = plain[1];
  if (isIP(host) === 4) return { host, port, kind: 'ipv4' };
  return isHostname(host) && !/^[\d.]+$/.test(host) ? { host: host.toLowerCase(), port, kind: 'name' } : null;
}

/** undefined for an invalid port, null for none. */
function portOf(digits: string | undefined): number | null | undefined {
  if (digits === undefined) return null;
  const port = Number(digits);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The port of a target written without one, as Kong (`kong/db/dao/targets.lua`). */
export const DEFAULT_TARGET_PORT = 8000;

/** A target as Kong stores it: `host:port`, `[v6]:port`, the port 8000 when absent; null when invalid. */
export function formatTarget(text: string): string | null {
  const parsed = parseHostAndPort(text);
  if (parsed === null) return null;
  const host = parsed.kind === 'ipv6' ? `[${parsed.host}]` : parsed.host;
  return `${host}:${parsed.port ?? DEFAULT_TARGET_PORT}`;
}

/** An upstream's name: a host name, never an IP address, without a port (Kong's messages). */
export function checkUpstreamName(name: string): string | null {
  const parsed = parseHostAndPort(name);
  if (parsed === null) return `Invalid name ('${name}'); must be a valid hostname`;
  if (parsed.kind !== 'name') return `Invalid name ('${name}'); no ip addresses allowed`;
  if (parsed.port !== null) return `Invalid name ('${name}'); no port allowed`;
  return null;
}
