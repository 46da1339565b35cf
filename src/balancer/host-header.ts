import type { ServiceProtocol } from '../config/types.js';
/** The Host header a target is sent, by the proxy and by active health probes alike. */

/**
 * Kong's Host header for a balanced request (`balancer/init.lua` `set_host_header`): the upstream's
 * `host_header`, else the target's host, with the target's port unless it is the scheme's default.
 * A `host_header` that carries a port of its own is sent as written.
 */
export function targetHostHeader(hostHeader: string | null, host: string, port: number, scheme: ServiceProtocol): string {
  const name = hostHeader ?? (host.includes(':') ? `[${host}]` : host);
  if (hostHeader !== null && /:\d+$/.test(hostHeader) && !hostHeader.endsWith(']')) return hostHeader;
  const defaultPort = scheme === 'https' || scheme === 'grpcs' || scheme === 'wss' ? 443 : 80;
  return port === defaultPort ? name : `${name}:${port}`;
}
