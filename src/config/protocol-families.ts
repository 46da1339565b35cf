import type { Protocol } from './types.js';

/**
 * How Kong's router reads route protocols (`kong/router/expressions.lua` PROTOCOLS_OVERRIDE): grpc
 * matches as http, grpcs as https. A route holds one family or the other, never both
 * (`routes.lua`: mutually exclusive subsets).
 */
export function isGrpcRoute(protocols: readonly Protocol[]): boolean {
  return protocols.includes('grpc') || protocols.includes('grpcs');
}

/** Whether requests over TLS reach a route with these protocols (https, grpcs). */
export function servesTls(protocols: readonly Protocol[]): boolean {
  return protocols.includes('https') || protocols.includes('grpcs');
}

/** Whether plain-text requests reach it (http, grpc). */
export function servesPlain(protocols: readonly Protocol[]): boolean {
  return protocols.includes('http') || protocols.includes('grpc');
}
