import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from './gateway-error.js';
import type { GatewayResponse } from './respond.js';

/**
 * gRPC at the gateway, as Kong: the route checks of `kong/runloop/handler.lua` and the error shape of
 * `kong/pdk/response.lua`, where a refusal of a gRPC request keeps its HTTP status but says what it
 * means in `grpc-status`/`grpc-message` (a trailers-only response, which gRPC clients read).
 */

/** A gRPC request: its Content-Type is `application/grpc` or a subtype (`application/grpc+proto`). */
export function isGrpcRequest(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return type !== undefined && type.startsWith('application/grpc');
}

/**
 * What a gRPC route refuses, in Kong's order, or null: a request that is not gRPC (415), gRPC over
 * HTTP/1.x (426, asking for HTTP/2), and, on a route limited to grpcs, a cleartext one (HTTP 200
 * with grpc-status 1). `cleartextOnGrpcs`: the router matched the route but not its protocol.
 */
export function grpcRouteRefusal(headers: IncomingHttpHeaders, httpVersion: string, cleartextOnGrpcs: boolean): GatewayError | null {
  if (!isGrpcRequest(headers)) {
    return new GatewayError({ status: 415, code: 'grpc_request_required', message: 'Non-gRPC request matched gRPC route' });
  }
  if (httpVersion !== '2.0') {
    return new GatewayError({ status: 426, code: 'http2_required', message: 'Please use HTTP2 protocol', headers: { connection: 'Upgrade', upgrade: 'HTTP/2' } });
  }
  if (cleartextOnGrpcs) {
    return new GatewayError({
      status: 200,
      code: 'grpcs_required',
      message: 'gRPC request matched gRPCs route',
      headers: { 'content-type': 'application/grpc', 'grpc-status': '1', 'grpc-message': 'gRPC request matched gRPCs route' },
    });
  }
  return null;
}

/** Kong's HTTP → gRPC status table (pdk/response.lua HTTP_TO_GRPC_STATUS). */
const grpcStatusOf: Readonly<Record<number, number>> = { 200: 0, 400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 499: 1, 500: 13, 501: 12, 503: 14, 504: 4 };

/** gRPC status names (pdk/response.lua GRPC_MESSAGES): the `grpc-message` of a refusal without one. */
const grpcMessages: readonly string[] = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];

function mappedStatus(status: number): number {
  const exact = grpcStatusOf[status];
  if (exact !== undefined) return exact;
  if (status >= 500 && status <= 599) return 13;
  if (status >= 400 && status <= 499) return 3;
  if (status >= 200 && status <= 299) return 0;
  return 2;
}

/**
 * The gateway's answer to a gRPC request: the same status and headers (a challenge stays), no
 * body, `content-type: application/grpc`, and the grpc-status/grpc-message Kong would send.
 */
export function grpcErrorResponse(response: GatewayResponse): GatewayResponse {
  const headers: Record<string, string> = { ...response.headers, 'content-type': 'application/grpc' };
  if (headers['grpc-status'] === undefined) {
    const status = mappedStatus(response.status);
    headers['grpc-status'] = String(status);
    headers['grpc-message'] ??= grpcMessages[status] ?? 'Unknown';
  }
  return { status: response.status, headers, body: '' };
}
