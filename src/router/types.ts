import type { IncomingHttpHeaders } from 'node:http';
import type { Route } from '../config/types.js';

/** What the router needs to know of a request. */
export interface RouterRequest {
  /** The scheme the client used (after any trusted X-Forwarded-Proto), as Kong's `forwarded_proto`. */
  protocol: 'http' | 'https';
  method: string;
  /** Lower-case, no port. */
  host: string;
  /** Raw path, no query; the router normalises it as Kong does. */
  path: string;
  headers: IncomingHttpHeaders;
  /** TLS SNI, or null (plain HTTP, or a client that sent none). */
  sni: string | null;
  /**
   * Kong's `net.dst.port`: the Host header's port, else the port the request arrived on. Only
   * routes with a `host:port` entry look at it; without it such hosts never match.
   */
  port?: number;
}

export type RouteMatch =
  | {
      kind: 'route';
      route: Route;
      /** The part of the normalised request path matched by the route path (the prefix, or the regex match text); '' when the route has no paths. */
      matchedPath: string;
    }
  /** The best route matches everything except protocol (https-only route, http request): answer `route.https_redirect_status_code`. */
  | { kind: 'protocol-mismatch'; route: Route };

export interface Router {
  /** The highest-priority route matching the request, a protocol mismatch, or null (Kong's 404). */
  match(request: RouterRequest): RouteMatch | null;
  /** Number of routes compiled in. */
  readonly size: number;
}

export interface RouterOptions {
  /**
   * Requests (protocol, method, host, port, SNI, path) whose result is remembered; 0 disables.
   * Used only when some route has a regex path (otherwise a match is cheaper than the cache) and no
   * route matches on headers (they are not in the key). Default 5000, Kong's router cache size.
   */
  cacheSize?: number;
}
