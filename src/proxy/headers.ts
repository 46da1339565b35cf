import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMap } from '../pipeline/context.js';

/**
 * Request and response headers as they cross the gateway, following Kong (`kong/runloop/handler.lua`
 * access/header_filter phases and the `proxy_set_header` lines of `kong/templates/nginx_kong.lua`).
 */

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) plus the ones Kong or nginx always drop. `proxy` is the
 * httpoxy vector Kong clears; `expect` is answered by node:http itself (100-continue) and nginx
 * drops it too (undici also refuses to send it). `te` is rebuilt separately; `host` is replaced.
 * Proxy-Authorization is *not* here: Kong (nginx) forwards it, and so do we.
 */
const requestDropped = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
]);

/** Headers the gateway writes itself; whatever the client sent under these names is replaced. */
const gatewayOwned = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-path',
  'x-forwarded-prefix',
  'x-real-ip',
  'via',
  'x-request-id',
]);

/**
 * Response headers never passed to the client. `trailer` goes too: node's ServerResponse throws
 * ERR_HTTP_TRAILER_INVALID when a Trailer header meets a response it cannot chunk (HEAD, 204,
 * Content-Length, HTTP/1.0 clients), and trailers themselves are still forwarded by `pipeResponse`.
 */
const responseDropped = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface UpstreamHeaderArgs {
  /** Headers exactly as the client sent them. */
  clientHeaders: IncomingHttpHeaders;
  /** Address of the TCP peer that connected to the gateway. */
  clientAddress: string;
  /** Whether that peer is a trusted proxy, whose X-Forwarded-* and X-Real-IP are believed. */
  trustedPeer: boolean;
  scheme: 'http' | 'https';
  /** Host of the request, without port. */
  host: string;
  port: number;
  /** Path as received, without the query string (X-Forwarded-Path). */
  path: string;
  /** Prefix stripped by `strip_path` (X-Forwarded-Prefix), or null. */
  strippedPrefix: string | null;
  /** Host header for the upstream: the client's with `preserve_host`, else the service's host[:port]. */
  upstreamHost: string;
  requestId: string;
  /** This gateway's Via entry, e.g. `1.1 portcullis`; appended to any Via the client sent. */
  via: string;
}

/** The request headers sent upstream: the client's minus hop-by-hop ones, plus the proxy headers. */
export function buildUpstreamHeaders(args: UpstreamHeaderArgs): HeaderMap {
  const client = args.clientHeaders;
  const listed = connectionTokens(client.connection);
  const out: HeaderMap = {};
  // for…in over node's header object (own, enumerable, no prototype chain of note): no entry arrays per request.
  for (const name in client) {
    const value = client[name];
    if (value === undefined) continue;
    // HTTP/2 pseudo-headers (`:authority`, …) appear in node's header object; never forward them.
    if (name.startsWith(':')) continue;
    if (requestDropped.has(name) || gatewayOwned.has(name) || listed.has(name)) continue;
    out[name] = value;
  }

  out['host'] = args.upstreamHost;
  // Kong forwards TE only as `trailers`, and only when the client asked for trailers.
  if (listsToken(client.te, 'trailers')) out['te'] = 'trailers';

  const peer = normaliseAddress(args.clientAddress);
  const trusted = args.trustedPeer;
  // Kong appends the connecting peer to any X-Forwarded-For, trusted or not (it is a list of hops;
  // the upstream decides which of them it believes). Without one, the list starts with the peer.
  const xff = joined(client['x-forwarded-for']);
  out['x-forwarded-for'] = xff === undefined ? peer : `${xff}, ${peer}`;
  out['x-forwarded-proto'] = (trusted ? single(client['x-forwarded-proto']) : undefined) ?? args.scheme;
  out['x-forwarded-host'] = (trusted ? single(client['x-forwarded-host']) : undefined) ?? args.host;
  out['x-forwarded-port'] = (trusted ? single(client['x-forwarded-port']) : undefined) ?? String(args.port);
  out['x-forwarded-path'] = (trusted ? single(client['x-forwarded-path']) : undefined) ?? args.path;
  const prefix = (trusted ? single(client['x-forwarded-prefix']) : undefined) ?? usefulPrefix(args.strippedPrefix);
  if (prefix !== undefined) out['x-forwarded-prefix'] = prefix;
  out['x-real-ip'] = realClientAddress(client, args.clientAddress, trusted);

  const via = joined(client.via);
  out['via'] = via === undefined ? args.via : `${via}, ${args.via}`;
  out['x-request-id'] = args.requestId;
  return out;
}

/** The upstream's response headers minus hop-by-hop ones (and any named by its Connection header). */
export function filterResponseHeaders(upstreamHeaders: Record<string, string | string[] | undefined>): HeaderMap {
  let connection: string | string[] | undefined;
  for (const name in upstreamHeaders) if (name.length === 10 && name.toLowerCase() === 'connection') connection = upstreamHeaders[name];
  const listed = connection === undefined ? null : connectionTokens(connection);
  const out: HeaderMap = {};
  for (const rawName in upstreamHeaders) {
    const value = upstreamHeaders[rawName];
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (responseDropped.has(name) || listed?.has(name) === true) continue;
    out[name] = value;
  }
  return out;
}

/** What a request without a Connection header lists: shared, never written to. */
const noTokens: ReadonlySet<string> = new Set();

/** Header names listed in a Connection header (lower-cased), which are hop-by-hop by declaration. */
function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> {
  if (value === undefined) return noTokens;
  const tokens = new Set<string>();
  for (const part of Array.isArray(value) ? value : [value]) {
    for (const token of part.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') tokens.add(name);
    }
  }
  return tokens;
}

function listsToken(value: string | string[] | undefined, token: string): boolean {
  return connectionTokens(value).has(token);
}

/** node joins repeated list headers with ", ", but a plugin may hand us an array; a blank value counts as absent. */
export function joined(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text.trim() === '' ? undefined : text;
}

/** A header that should hold one value (the first of several): an empty or missing one counts as absent. */
export function single(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text;
}

/**
 * The client's address as nginx's realip module (Kong's default real_ip_header is X-Real-IP) gives
 * it: the X-Real-IP a trusted peer sent, else the peer itself. X-Real-IP carries it upstream, and
 * consistent hashing on `ip` hashes it (Kong's `var.remote_addr`).
 */
export function realClientAddress(clientHeaders: IncomingHttpHeaders, peerAddress: string, trustedPeer: boolean): string {
  return (trustedPeer ? single(clientHeaders['x-real-ip']) : undefined) ?? normaliseAddress(peerAddress);
}

/** Kong sends X-Forwarded-Prefix only for a real prefix, never for `/`. */
function usefulPrefix(prefix: string | null): string | undefined {
  return prefix === null || prefix === '' || prefix === '/' ? undefined : prefix;
}

/**
 * A dual-stack listener reports IPv4 clients as `::ffff:a.b.c.d`; nginx (and so Kong) reports the
 * plain IPv4 address, which is also what upstream allow-lists expect.
 */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
