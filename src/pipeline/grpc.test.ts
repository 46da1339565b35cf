import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grpcErrorResponse, grpcRouteRefusal, isGrpcRequest } from './grpc.js';

describe('gRPC refusals (Kong pdk/response.lua)', () => {
  it("maps the HTTP status to Kong's grpc-status and status name, drops the body, keeps the other headers", () => {
    const cases: Array<[number, string, string]> = [
      [401, '16', 'Unauthenticated'],
      [403, '7', 'PermissionDenied'],
      [404, '5', 'NotFound'],
      [429, '8', 'ResourceExhausted'],
      [503, '14', 'Unavailable'],
      [504, '4', 'DeadlineExceeded'],
      [502, '13', 'Internal'],
      [413, '3', 'InvalidArgument'],
      [302, '2', 'Unknown'],
    ];
    for (const [status, code, message] of cases) {
      const answer = grpcErrorResponse({ status, headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }, body: '{"message":"x"}' });
      assert.deepEqual(answer, { status, headers: { 'content-type': 'application/grpc', 'www-authenticate': 'Bearer', 'grpc-status': code, 'grpc-message': message }, body: '' }, String(status));
    }
  });

  it('keeps a grpc-status the refusal set itself', () => {
    const answer = grpcErrorResponse({ status: 200, headers: { 'grpc-status': '1', 'grpc-message': 'gRPC request matched gRPCs route' }, body: '' });
    assert.equal(answer.headers['grpc-status'], '1');
    assert.equal(answer.headers['grpc-message'], 'gRPC request matched gRPCs route');
  });

  it("checks a gRPC route's request in Kong's order", () => {
    assert.equal(isGrpcRequest({ 'content-type': 'application/grpc+proto' }), true);
    assert.equal(isGrpcRequest({ 'content-type': 'application/json' }), false);
    assert.equal(grpcRouteRefusal({ 'content-type': 'text/plain' }, '1.1', true)?.code, 'grpc_request_required');
    assert.equal(grpcRouteRefusal({ 'content-type': 'application/grpc' }, '1.1', true)?.code, 'http2_required');
    assert.equal(grpcRouteRefusal({ 'content-type': 'application/grpc' }, '2.0', true)?.code, 'grpcs_required');
    assert.equal(grpcRouteRefusal({ 'content-type': 'application/grpc' }, '2.0', false), null);
  });
});
