import type { Protocol } from './types.js';

/**
 * How Kong's router reads route protocols (`kong/router/expressions.lua` PROTOCOLS_OVERRIDE): grpc
 * matches as http, grpcs as https; Kong Enterprise's ws and wss likewise. A route holds one family
 * (`routes.lua`: mutually exclusive subsets).
 */
export function isGrpcRoute(protocols: readonly Protocol[]): boolean {
  return protocols.includes('grpc') || protocols.includes('grpcs');
}

/** A WebSocket route (Kong Enterprise's ws/wss): it serves WebSocket handshakes only. */
export function isWebSocketRoute(protocols: readonly Protocol[]): boolean {
  return protocols.includes('ws') || protocols.includes('wss');
}

/** Whether requests over TLS reach a route with these protocols (https, grpcs, wss). */
export function servesTls(protocols: readonly Protocol[]): boolean {
  return protocols.includes('https') || protocols.includes('grpcs') || protocols.includes('wss');
}

/** Whether plain-text requests reach it (http, grpc, ws). */
export function servesPlain(protocols: readonly Protocol[]): boolean {
  return protocols.includes('http') || protocols.includes('grpc') || protocols.includes('ws');
}

/** The protocol a request on a route with these protocols is served as (which plugins run): grpc(s) or ws(s) on their routes, else its scheme. */
export function servedProtocol(protocols: readonly Protocol[], scheme: 'http' | 'https'): 'http' | 'https' | 'grpc' | 'grpcs' | 'ws' | 'wss' {
  if (isGrpcRoute(protocols)) return scheme === 'https' ? 'grpcs' : 'grpc';
  if (isWebSocketRoute(protocols)) return scheme === 'https' ? 'wss' : 'ws';
  return scheme;
}
