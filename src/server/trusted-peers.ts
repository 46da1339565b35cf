import type { IncomingHttpHeaders } from 'node:http';
import { compileAddressSet, type AddressSet } from '../util/trusted-addresses.js';

/** `--trusted-ips` compiled once per handler; an empty list trusts nobody. */
export function compileTrustedPeers(trustedIps: readonly string[] | undefined): AddressSet {
  return compileAddressSet(trustedIps ?? [], 'trusted-ips');
}

/**
 * Removes client-certificate headers sent by a peer that is not a trusted proxy. It runs before
 * routing and before any plugin, on the request's own header object, so nothing downstream (route
 * header matching, plugins, the upstream request) can see a certificate the client only claims.
 */
export function removeUntrustedCertificateHeaders(headers: IncomingHttpHeaders, names: ReadonlySet<string>): void {
  for (const name of names) {
    if (headers[name] !== undefined) delete headers[name];
  }
}

/**
 * The first header among `names` sent more than once, or null. For client-certificate headers from
 * a trusted proxy: Node joins repeated headers into one value, which could pass for a leaf and its
 * chain, and which copy would be the proxy's is unknowable. For singleton fields (Authorization,
 * Host): Node keeps only the first copy, where a proxy in front may have used another. Either way
 * the request is refused (400) rather than guessed at.
 */
export function duplicatedHeader(rawHeaders: readonly string[], names: ReadonlySet<string>): string | null {
  let seen: Set<string> | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    if (!names.has(name)) continue;
    seen ??= new Set();
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return null;
}
