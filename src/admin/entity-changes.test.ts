import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { patchEntity, rejection } from './entity-changes.js';
import { KINDS } from './entity-kinds.js';

const patchUpstream = (stored: Record<string, unknown>, body: Record<string, unknown>): unknown[] => {
  const next = patchEntity({ name: 'u', ...stored }, body, KINDS.upstreams);
  return [next.algorithm, next.hash_on];
};

describe('entity changes', () => {
  it("applies Kong's algorithm/hash_on shorthand to a PATCH body, not to the merged upstream", () => {
    // The stored document writes hash_on only when it hashes.
    const hashing = { algorithm: 'consistent-hashing', hash_on: 'ip' };
    assert.deepEqual(patchUpstream(hashing, { slots: 20 }), ['consistent-hashing', 'ip'], 'untouched');
    assert.deepEqual(patchUpstream(hashing, { hash_on: 'none' }), ['round-robin', undefined]);
    assert.deepEqual(patchUpstream(hashing, { hash_on: null }), ['consistent-hashing', undefined]);
    assert.deepEqual(patchUpstream(hashing, { algorithm: 'least-connections' }), ['least-connections', undefined]);
    assert.deepEqual(patchUpstream(hashing, { algorithm: 'round-robin' }), ['round-robin', undefined], 'the written algorithm wins');
    assert.deepEqual(patchUpstream({ algorithm: 'least-connections' }, { hash_on: 'header' }), ['consistent-hashing', 'header']);
    assert.deepEqual(patchUpstream({ algorithm: 'round-robin' }, { algorithm: 'latency', hash_on: 'ip' }), ['latency', undefined]);
    assert.deepEqual(patchUpstream({ algorithm: 'round-robin' }, { algorithm: 'consistent-hashing' }), ['consistent-hashing', undefined]);
  });

  it("answers a target already in its upstream with Kong's 409", () => {
    const error = rejection([{ path: 'targets[1].target', message: "duplicate target '10.0.0.1:8000' in the same upstream (also used by targets[0])" }], 'targets[1]', 'write');
    assert.deepEqual([error.status, error.kind, error.message], [409, 'unique constraint violation', `UNIQUE violation detected on '{target="10.0.0.1:8000"}'`]);
  });
});
