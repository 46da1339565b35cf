/**
 * Well-known documents plugins serve about a resource (RFC 9728 protected resource metadata): a
 * GET of `<prefix>/<path>` is answered by the plugin on the route that `/<path>` matches, before
 * the request is routed itself. These documents are public by design (a client reads them before
 * it has a token), so any origin may read them, preflight included: MCP clients in a browser send
 * `MCP-Protocol-Version`, which makes the GET a non-simple request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Route } from '../config/types.js';
import type { ClientUrlParts } from '../pipeline/client-url.js';
import type { GatewayResponse } from '../pipeline/respond.js';
import type { Runtime } from '../runtime/runtime.js';
import type { RequestTarget } from './request-target.js';

const WELL_KNOWN = '/.well-known/';
/** A resource answers whichever method its route takes; a document about it is found through the first that matches. */
const RESOURCE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const SERVED_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Header names as a preflight may list them (RFC 9110 tokens, comma-separated). */
const HEADER_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:\s*,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

export interface WellKnownAnswer {
  readonly route: Route;
  readonly response: GatewayResponse;
}

export interface WellKnownLookup {
  readonly method: string;
  readonly target: RequestTarget;
  readonly client: ClientUrlParts;
  readonly protocol: 'http' | 'https';
  readonly headers: IncomingHttpHeaders;
  readonly sni: string | null;
}

/** Whether a request may be for a well-known document: checked before the lookup (two objects) is built. */
export function mayBeWellKnown(runtime: Runtime, path: string): boolean {
  return runtime.wellKnownPrefixes.length !== 0 && path.startsWith(WELL_KNOWN);
}

/** The answer to a request for a plugin's well-known document, or null when it is not one (route it as usual). */
export function answerWellKnown(runtime: Runtime, lookup: WellKnownLookup): WellKnownAnswer | null {
  const { target } = lookup;
  if (!mayBeWellKnown(runtime, target.path) || !SERVED_METHODS.has(lookup.method)) return null;
  for (const prefix of runtime.wellKnownPrefixes) {
    const rest = target.path.startsWith(prefix) ? target.path.slice(prefix.length) : null;
    if (rest === null || (rest !== '' && !rest.startsWith('/'))) continue;
    const resourcePath = rest === '' ? '/' : rest;
    const answer = documentFor(runtime, lookup, prefix, resourcePath);
    if (answer !== null) return lookup.method === 'OPTIONS' ? { route: answer.route, response: preflight(lookup.headers) } : answer;
  }
  return null;
}

function documentFor(runtime: Runtime, lookup: WellKnownLookup, prefix: string, resourcePath: string): WellKnownAnswer | null {
  for (const method of RESOURCE_METHODS) {
    const match = runtime.router.match({ protocol: lookup.protocol, method, host: lookup.target.host, path: resourcePath, port: lookup.target.port, headers: lookup.headers, sni: lookup.sni });
    if (match === null || match.kind === 'protocol-mismatch') continue;
    const routePlugins = runtime.pluginsFor(match.route).base.filter((p) => p.entity.protocols.includes(lookup.protocol));
    const serving = routePlugins.find((p) => p.instance.wellKnown?.prefix === prefix);
    if (serving === undefined) return null;
    const response = serving.instance.wellKnown!.serve({ client: lookup.client, resourcePath, routePlugins });
    return response === null ? null : { route: match.route, response: { ...response, headers: { ...response.headers, 'access-control-allow-origin': '*' } } };
  }
  return null;
}

function preflight(headers: IncomingHttpHeaders): GatewayResponse {
  const requested = headers['access-control-request-headers'];
  const out: Record<string, string> = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD, OPTIONS', 'access-control-max-age': '86400' };
  if (typeof requested === 'string' && HEADER_LIST.test(requested.trim())) out['access-control-allow-headers'] = requested.trim();
  return { status: 204, headers: out, body: '' };
}
