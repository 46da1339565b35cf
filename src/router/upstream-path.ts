/**
 * The path sent upstream: service path, route path and request path joined as Kong joins them.
 * Sources (Kong/kong @22246ef):
 * - v0: `kong/router/utils.lua` `get_upstream_uri_v0`, used by `kong/router/atc.lua`
 *   `set_upstream_uri` with prefix = the matched path when `strip_path`, else "/", and the
 *   postfix cleaned by `sanitize_uri_postfix`.
 * - v1: `kong/router/traditional.lua` (`path_handling == "v1"` branch).
 * - The table in developer.konghq.com /gateway/entities/route/ "path_handling" (its row
 *   `/fv0/` blank → `/s/fv01/` is a typo; the code gives `/s/fv0/`).
 * Kong 3.x's `traditional_compatible` router ignores `path_handling` and always joins as v0
 * (routes.lua: "path_handling='v1' … will not work under … 'traditional_compatible'"); we honour
 * v1 as the traditional router did, so a v1 route behaves as its documentation table says.
 */
import type { Route } from '../config/types.js';
import { escapePath, normalizePath } from '../util/uri-path.js';

/** `sanitize_uri_postfix`: a postfix made only of dots, or starting with `./` or `../`, loses them. */
function sanitizePostfix(postfix: string): string {
  if (postfix === '.' || postfix === '..') return '';
  if (postfix.startsWith('./')) return postfix.slice(2);
  if (postfix.startsWith('../')) return postfix.slice(3);
  return postfix;
}

function joinV0(stripPath: boolean, postfix: string, requestPath: string, base: string): string {
  if (base.endsWith('/')) {
    if (!stripPath) return base + requestPath.slice(1);
    if (postfix === '') {
      if (base === '/') return '/';
      return requestPath.endsWith('/') ? base : base.slice(0, -1);
    }
    return postfix.startsWith('/') ? base.slice(0, -1) + postfix : base + postfix;
  }
  if (!stripPath) return requestPath === '/' ? base : base + requestPath;
  if (postfix === '') return requestPath.length > 1 && requestPath.endsWith('/') ? base + '/' : base;
  return postfix.startsWith('/') ? base + postfix : base + '/' + postfix;
}

function joinV1(stripPath: boolean, postfix: string, requestPath: string, base: string): string {
  if (!stripPath) return base + requestPath.slice(1);
  return base.endsWith('/') && postfix.startsWith('/') ? base.slice(0, -1) + postfix : base + postfix;
}

/**
 * The upstream path for a matched route, escaped for the request line (Kong's `escape`). The
 * request path may be raw or already normalised: it is normalised here as the router did, so
 * `matchedPath` (from `RouteMatch`) is a prefix of it. `servicePath` null means `/`.
 */
export function upstreamPath(args: { servicePath: string | null; route: Route; matchedPath: string; requestPath: string }): string {
  const { route } = args;
  const requestPath = normalizePath(args.requestPath);
  const base = args.servicePath ?? '/';
  // atc.lua: `request_prefix = match_t.prefix or "/"`; a route without paths has no matched prefix.
  const hasPaths = route.paths !== null && route.paths.length > 0;
  const prefix = route.strip_path && hasPaths ? args.matchedPath : '/';
  const postfix = sanitizePostfix(requestPath.slice(prefix.length));
  const joined =
    route.path_handling === 'v1'
      ? joinV1(route.strip_path, postfix, requestPath, base)
      : joinV0(route.strip_path, postfix, requestPath, base);
  return escapePath(joined);
}
