/** Test helpers: routes and requests with every field defaulted as Kong's schema does. */
import type { Route } from '../config/types.js';
import type { Router, RouterRequest } from './types.js';

let created = 0;

/** A route with Kong's defaults; `order` follows creation unless given. */
export function makeRoute(fields: Partial<Route> = {}): Route {
  created += 1;
  return {
    id: `route-${created}`,
    name: null,
    service: 'service-1',
    protocols: ['http', 'https'],
    methods: null,
    hosts: null,
    paths: null,
    headers: null,
    snis: null,
    strip_path: true,
    preserve_host: false,
    regex_priority: 0,
    path_handling: 'v0',
    https_redirect_status_code: 426,
    request_buffering: true,
    response_buffering: true,
    tags: [],
    order: created,
    ...fields,
  };
}

/** A plain-HTTP GET / for example.com unless told otherwise. */
export function makeRequest(fields: Partial<RouterRequest> = {}): RouterRequest {
  return { protocol: 'http', method: 'GET', host: 'example.com', path: '/', headers: {}, sni: null, ...fields };
}

/** The name of the matched route, `mismatch:<name>` for a protocol mismatch, or null. */
export function matchedName(router: Router, fields: Partial<RouterRequest> = {}): string | null {
  const found = router.match(makeRequest(fields));
  if (found === null) return null;
  const name = found.route.name ?? found.route.id;
  return found.kind === 'route' ? name : `mismatch:${name}`;
}
