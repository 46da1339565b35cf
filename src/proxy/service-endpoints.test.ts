import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { RoundRobinBalancer } from '../balancer/index.js';
import { targetHostHeader } from '../balancer/host-header.js';
import { BalancedEndpoints, type UpstreamEndpoint } from './service-endpoints.js';

describe('service endpoints', () => {
  it("builds Kong's Host header for a target", () => {
    assert.equal(targetHostHeader(null, 'backend.internal', 80, 'http'), 'backend.internal');
    assert.equal(targetHostHeader(null, 'backend.internal', 443, 'http'), 'backend.internal:443');
    assert.equal(targetHostHeader(null, 'backend.internal', 443, 'https'), 'backend.internal');
    assert.equal(targetHostHeader(null, '10.0.0.1', 8000, 'https'), '10.0.0.1:8000');
    assert.equal(targetHostHeader(null, '0000:0000:0000:0000:0000:0000:0000:0001', 8000, 'http'), '[0000:0000:0000:0000:0000:0000:0000:0001]:8000');
    assert.equal(targetHostHeader('api.example.test', '10.0.0.1', 8000, 'http'), 'api.example.test:8000');
    assert.equal(targetHostHeader('api.example.test', '10.0.0.1', 80, 'http'), 'api.example.test');
    assert.equal(targetHostHeader('api.example.test:9443', '10.0.0.1', 8000, 'http'), 'api.example.test:9443');
  });

  it('moves a retry to a target this request has not tried, and back to a tried one only when none is left', () => {
    const endpoint = (target: string): UpstreamEndpoint => ({ dispatcher: {} as Dispatcher, servername: target, hostHeader: target, target, health: null });
    const endpoints = new BalancedEndpoints(
      new RoundRobinBalancer([{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }], { start: 0 }),
      ['a', 'b'].map((id) => [endpoint(id), 1] as const),
    );
    const first = endpoints.next(null, null)?.target;
    assert.ok(first === 'a' || first === 'b');
    const second = endpoints.next([first], null)?.target;
    assert.notEqual(second, first);
    assert.ok(endpoints.next(['a', 'b'], null) !== null, 'every target tried: one of them again');
    assert.equal(new BalancedEndpoints(new RoundRobinBalancer([]), []).next(null, null), null);
  });
});
