import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry } from 'prom-client';
import type { AccessRecord } from '../server/access-log.js';
import { BoundedLabel } from './bounded-labels.js';
import { GatewayMetrics, statusClass, upstreamFailureKind } from './gateway-metrics.js';

function record(overrides: Partial<AccessRecord>): AccessRecord {
  return {
    request_id: 'r',
    method: 'GET',
    path: '/',
    host: 'h',
    client: '127.0.0.1',
    sni: null,
    thumbprint: null,
    route: 'example-route',
    service: 'example-service',
    status: 200,
    reason: null,
    auth: null,
    latency_ms: { total: 12, upstream: 10, gateway: 2 },
    config_version: 1,
    ...overrides,
  };
}

describe('GatewayMetrics', () => {
  it('counts requests, latencies, upstream errors, auth outcomes, connections and handshakes', async () => {
    const metrics = new GatewayMetrics({ config: () => ({ version: 7, loadedAt: new Date(1_700_000_000_000), hash: 'abc' }), processMetrics: false });
    metrics.requestFinished(record({}));
    metrics.requestFinished(record({ status: 504, reason: 'upstream_timeout', latency_ms: { total: 60000, upstream: 60000, gateway: 0 } }));
    metrics.requestFinished(record({ status: 401, auth: { plugin: 'openid-connect', outcome: 'failure', reason: 'token_expired' } }));
    metrics.connection(1);
    metrics.connection(1);
    metrics.connection(-1);
    metrics.tlsHandshake({ clientCertificate: true, resumed: false });
    const text = (await metrics.scrape()).body;
    assert.match(text, /portcullis_http_requests_total\{service="example-service",route="example-route",status_class="2xx"\} 1/);
    assert.match(text, /portcullis_http_requests_total\{service="example-service",route="example-route",status_class="5xx"\} 1/);
    assert.match(text, /portcullis_upstream_errors_total\{service="example-service",kind="timeout"\} 1/);
    assert.match(text, /portcullis_auth_outcomes_total\{plugin="openid-connect",outcome="failure",reason="token_expired"\} 1/);
    assert.match(text, /portcullis_request_latency_ms_count\{service="example-service",route="example-route"\} 3/);
    assert.match(text, /portcullis_open_connections 1/);
    assert.match(text, /portcullis_tls_handshakes_total\{client_certificate="true",resumed="false"\} 1/);
    assert.match(text, /portcullis_config_version 7/);
    assert.match(text, /portcullis_config_last_reload_timestamp_seconds 1700000000/);
    assert.match(text, /portcullis_config_info\{configuration_hash="abc"\} 1/);
  });

  it('exposes latency as cumulative buckets with sum and count, and the workers\' JSON adds up', async () => {
    const config = (): { version: number; loadedAt: Date; hash: string } => ({ version: 1, loadedAt: new Date(), hash: '' });
    const a = new GatewayMetrics({ config, processMetrics: false });
    const b = new GatewayMetrics({ config, processMetrics: false });
    a.requestFinished(record({ latency_ms: { total: 0.5, upstream: null, gateway: 0.5 } }));
    a.requestFinished(record({ latency_ms: { total: 7, upstream: 6, gateway: 1 } }));
    b.requestFinished(record({ status: 404, latency_ms: { total: 70000, upstream: null, gateway: 70000 } }));
    const text = (await a.scrape()).body;
    const labels = 'service="example-service",route="example-route"';
    assert.match(text, new RegExp(`portcullis_request_latency_ms_bucket\\{le="1",${labels}\\} 1\n`));
    assert.match(text, new RegExp(`portcullis_request_latency_ms_bucket\\{le="5",${labels}\\} 1\n`));
    assert.match(text, new RegExp(`portcullis_request_latency_ms_bucket\\{le="10",${labels}\\} 2\n`));
    assert.match(text, new RegExp(`portcullis_request_latency_ms_sum\\{${labels}\\} 7.5\n`));
    assert.match(text, new RegExp(`portcullis_upstream_latency_ms_count\\{${labels}\\} 1\n`));
    const merged = AggregatorRegistry.aggregate([await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()]);
    const all = await merged.metrics();
    assert.match(all, new RegExp(`portcullis_request_latency_ms_bucket\\{le="60000",${labels}\\} 2\n`));
    assert.match(all, new RegExp(`portcullis_request_latency_ms_bucket\\{le="\\+Inf",${labels}\\} 3\n`));
    assert.match(all, new RegExp(`portcullis_request_latency_ms_count\\{${labels}\\} 3\n`));
    assert.match(all, new RegExp(`portcullis_http_requests_total\\{${labels},status_class="2xx"\\} 2\n`));
    assert.match(all, new RegExp(`portcullis_http_requests_total\\{${labels},status_class="4xx"\\} 1\n`));
  });

  it('keeps two instances apart (no global registry)', async () => {
    const a = new GatewayMetrics({ config: () => ({ version: 1, loadedAt: new Date(), hash: '' }), processMetrics: false });
    const b = new GatewayMetrics({ config: () => ({ version: 1, loadedAt: new Date(), hash: '' }), processMetrics: false });
    a.requestFinished(record({}));
    assert.doesNotMatch((await b.scrape()).body, /status_class="2xx"/);
  });

  it('bounds label values', () => {
    const label = new BoundedLabel(2);
    assert.deepEqual(['a', 'b', 'c', 'a'].map((v) => label.of(v)), ['a', 'b', 'other', 'a']);
    assert.equal(statusClass(499), '4xx');
    assert.equal(upstreamFailureKind('upstream_reset'), 'reset');
    assert.equal(upstreamFailureKind('no_route'), null);
  });
});
