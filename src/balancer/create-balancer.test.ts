import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BALANCER_ALGORITHMS,
  type Balancer,
  type BalancerTarget,
  ConsistentHashingBalancer,
  createBalancer,
  LatencyBalancer,
  LeastConnectionsBalancer,
  RoundRobinBalancer,
} from './index.js';

const targets: BalancerTarget[] = [
  { id: 'a', weight: 100, key: '10.0.0.1:8000' },
  { id: 'b', weight: 100, key: '10.0.0.2:8000' },
  { id: 'z', weight: 0, key: '10.0.0.3:8000' },
];

describe('createBalancer', () => {
  it('builds the balancer of each of Kong’s algorithms', () => {
    const kinds = { 'round-robin': RoundRobinBalancer, 'consistent-hashing': ConsistentHashingBalancer, 'least-connections': LeastConnectionsBalancer, latency: LatencyBalancer };
    for (const algorithm of BALANCER_ALGORITHMS) assert.ok(createBalancer(algorithm, targets, { slots: 10000 }) instanceof kinds[algorithm], algorithm);
  });

  it('gives each the same interface: picks skip unusable targets and weight 0, null when none is left', () => {
    for (const algorithm of BALANCER_ALGORITHMS) {
      const b: Balancer = createBalancer(algorithm, targets, { slots: 10000, start: 0, now: () => 0 });
      for (let i = 0; i < 20; i++) {
        const t = b.pick((id) => id !== 'a', `key-${i}`);
        assert.equal(t?.id, 'b', algorithm);
        b.started(t.id);
        b.finished(t.id, i % 2 === 0 ? 10 : null);
      }
      assert.equal(b.pick((id) => id === 'z', 'k'), null, algorithm);
      assert.equal(b.pick(() => false, 'k'), null, algorithm);
    }
  });

  it('passes slots to consistent hashing, start to round-robin and the clock to latency', () => {
    const ring = createBalancer('consistent-hashing', targets, { slots: 5000 }) as ConsistentHashingBalancer;
    assert.equal(ring.ringSize, 5000);
    assert.equal(ring.pick(undefined, 'alice')?.id, new ConsistentHashingBalancer(targets, { slots: 5000 }).pick(undefined, 'alice')?.id);
    const rr = (start: number) => createBalancer('round-robin', targets, { slots: 10, start }).pick()?.id;
    assert.deepEqual([rr(0), rr(1)], ['a', 'b']);
    let time = 0;
    const latency = createBalancer('latency', targets, { slots: 10, now: () => time }) as LatencyBalancer;
    time = 10_000;
    latency.finished('a', 100);
    assert.ok(Math.abs(latency.score('a')! - (100 * (1 - Math.exp(-1))) / 100) < 1e-12);
  });

  it('refuses an unknown algorithm', () => {
    assert.throws(() => createBalancer('random' as never, targets, { slots: 10 }), RangeError);
  });
});
