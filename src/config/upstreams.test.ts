import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveBalancing } from './checks/upstream.js';
import { loadConfig } from './index.js';
import { catalog, lines, loaded, loadErrors } from './test-fixtures.js';
import type { Config } from './types.js';

const load = (text: string): Config => loaded(loadConfig(text, { env: {}, plugins: catalog }));
const doc = (body: string): string => `_format_version: "3.0"\n${body}`;

describe('upstreams and targets', () => {
  it("fills Kong's defaults, nested and top-level targets alike", () => {
    const config = load(doc(`upstreams:
  - name: backend.internal
    targets:
      - target: 10.0.0.1
      - target: backend-2.internal:9000
        weight: 0
targets:
  - target: "::1"
    upstream: backend.internal
`));
    const [upstream] = config.upstreams;
    assert.equal(upstream?.algorithm, 'round-robin');
    assert.equal(upstream?.hash_on, 'none');
    assert.equal(upstream?.hash_fallback, 'none');
    assert.equal(upstream?.slots, 10000);
    assert.equal(upstream?.hash_on_cookie_path, '/');
    assert.equal(upstream?.use_srv_name, false);
    assert.deepEqual(upstream?.healthchecks.active.healthy, { interval: 0, http_statuses: [200, 302], successes: 0 });
    assert.deepEqual(upstream?.healthchecks.active.unhealthy, { interval: 0, http_statuses: [429, 404, 500, 501, 502, 503, 504, 505], tcp_failures: 0, timeouts: 0, http_failures: 0 });
    assert.equal(upstream?.healthchecks.active.timeout, 1);
    assert.equal(upstream?.healthchecks.active.concurrency, 10);
    assert.equal(upstream?.healthchecks.active.https_verify_certificate, true);
    assert.equal(upstream?.healthchecks.active.https_sni, null);
    assert.deepEqual(upstream?.healthchecks.passive.unhealthy.http_statuses, [429, 500, 503]);
    assert.equal(upstream?.healthchecks.passive.healthy.http_statuses.length, 19);
    assert.equal(upstream?.healthchecks.threshold, 0);
    assert.deepEqual(
      config.targets.map((t) => [t.upstream === upstream?.id, t.target, t.weight]),
      [
        [true, '10.0.0.1:8000', 100],
        [true, 'backend-2.internal:9000', 0],
        [true, '[0000:0000:0000:0000:0000:0000:0000:0001]:8000', 100],
      ],
    );
    // Ids are stable and distinct without being written.
    assert.equal(new Set(config.targets.map((t) => t.id)).size, 3);
    assert.deepEqual(load(doc(`upstreams: [{ name: backend.internal, targets: [{ target: 10.0.0.1 }] }]`)).targets[0]?.id, config.targets[0]?.id);
  });

  it("applies Kong's algorithm/hash_on shorthand to what was written", () => {
    const written = [{ hash_on: 'ip' }, { algorithm: 'consistent-hashing', hash_on: 'none' }, { algorithm: 'least-connections', hash_on: 'ip' }, { algorithm: 'latency' }, { algorithm: 'consistent-hashing' }, {}];
    assert.deepEqual(
      written.map((raw) => Object.values(effectiveBalancing(raw)).join(' ')),
      ['consistent-hashing ip none', 'round-robin none none', 'least-connections none none', 'latency none none', 'consistent-hashing none none', 'round-robin none none'],
    );
    assert.equal(load(doc('upstreams: [{ name: a, algorithm: consistent-hashing, hash_on: none }]')).upstreams[0]?.algorithm, 'round-robin');
  });

  it('refuses what Kong refuses, each at its path', () => {
    assert.deepEqual(
      lines(loadErrors(doc(`certificates: []
upstreams:
  - name: 10.0.0.1
  - name: with.port:80
  - name: bad_host!
  - name: hashed
    hash_on: header
  - name: cookie
    hash_on: cookie
    hash_on_cookie: c
    hash_fallback: ip
  - name: same
    hash_on: ip
    hash_fallback: ip
  - name: twice
    hash_on: header
    hash_on_header: X-A
    hash_fallback: header
    hash_fallback_header: x-a
  - name: cert
    client_certificate: 6f1c9d4c-5c2a-4a4e-9d1e-2b9f2f1f8a11
    slots: 5
    targets:
      - target: 10.0.0.1:99999
      - target: ok.internal
        weight: 70000
      - target: ok.internal:8000
targets:
  - target: x.internal
    upstream: nowhere
`))),
      [
        "upstreams[0].name: Invalid name ('10.0.0.1'); no ip addresses allowed",
        "upstreams[1].name: Invalid name ('with.port:80'); no port allowed",
        "upstreams[2].name: Invalid name ('bad_host!'); must be a valid hostname",
        "upstreams[3].hash_on_header: required field missing (hash_on is 'header')",
        "upstreams[4].hash_fallback: must be 'none' when hash_on is 'cookie'",
        "upstreams[5].hash_fallback: must not be 'ip' when hash_on is 'ip'",
        'upstreams[6].hash_fallback_header: must be different from hash_on_header',
        'upstreams[7].slots: must be at least 10',
        'upstreams[7].targets[1].weight: must be at most 65535',
        "upstreams[7].targets[0].target: Invalid target ('10.0.0.1:99999'); not a valid hostname or ip address",
        "upstreams[7].client_certificate: certificate '6f1c9d4c-5c2a-4a4e-9d1e-2b9f2f1f8a11' not found",
        "upstreams[7].targets[2].target: duplicate target 'ok.internal:8000' in the same upstream (also used by upstreams[7].targets[1])",
        "targets[0].upstream: upstream 'nowhere' not found",
      ],
    );
  });

  it('refuses a duplicate upstream name and a target nested under an upstream that names another', () => {
    assert.deepEqual(lines(loadErrors(doc(`upstreams:
  - name: a
    targets: [{ target: t.internal, upstream: b }]
  - name: a
`))), ['upstreams[0].targets[0].upstream: unknown field', "upstreams[1].name: duplicate name 'a' (also used by upstreams[0])"]);
  });
});
