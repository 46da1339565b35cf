import type { IncomingHttpHeaders } from 'node:http';

/**
 * A request header by its lower-case name, from the header object's own properties only. Node's
 * `req.headers` inherits from Object.prototype, so a configured name such as `constructor` or
 * `__proto__` (a plugin's header field, a route's header rule) would otherwise read a function.
 */
export function ownHeader(headers: IncomingHttpHeaders, name: string): string | string[] | undefined {
  return Object.hasOwn(headers, name) ? headers[name] : undefined;
}
