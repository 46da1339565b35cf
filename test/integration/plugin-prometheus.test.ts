/**
 * prometheus against a real gateway: Kong's series on the admin /metrics beside Portcullis's own,
 * with Kong's names, labels and buckets; a refusal counted with source kong; no series for a
 * request that matched no route; per_consumer; status_code_metrics off exports no request counts;
 * with --workers 2 the counts of both workers add up.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startCountingUpstream, type CountingUpstream } from '../helpers/counting-upstream.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';

const KONG_BUCKETS = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 3000, 6000];
const UPSTREAM_BUCKETS = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000];

/** The value of the one series `name{labels}` (labels in exposition order), or null. */
function sample(text: string, name: string, labels: string): number | null {
  const escaped = `${name}{${labels}}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match === null ? null : Number(match[1]);
}

async function scrape(gateway: GatewayProcess): Promise<string> {
  const metrics = await admin(gateway.adminUrl, 'GET', '/metrics');
  assert.equal(metrics.status, 200);
  return metrics.text;
}

function config(upstream: string, prometheus: string): string {
  return `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
upstreams:
  - name: pool
    targets: [{ target: "${new URL(upstream).host}" }]
plugins:
  - name: prometheus
    config: ${prometheus}
services:
  - name: pooled
    host: pool
    routes: [{ name: pooled, paths: [/pooled] }]
  - name: api
    url: ${upstream}
    routes:
      - name: open
        paths: [/open]
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
  - host: 127.0.0.1
    port: 9
    protocol: http
    routes:
      - paths: [/unnamed]
        id: 0b6a6a2e-8f1d-4d8a-9a53-7d0b8d1c1e01
`;
}

describe('prometheus', () => {
  let upstream: CountingUpstream;
  before(async () => {
    upstream = await startCountingUpstream();
  });
  after(() => upstream.server.close());

  describe('every metric on, per consumer', () => {
    let gateway: GatewayProcess;
    before(async () => {
      gateway = await startGatewayProcess({ config: config(upstream.url, '{ per_consumer: true, status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, upstream_health_metrics: true }') });
      for (let i = 0; i < 3; i++) assert.equal((await fetchText(`${gateway.httpUrl}/open`)).status, 200);
      assert.equal((await fetchText(`${gateway.httpUrl}/keyed`, { headers: { apikey: 'alice-key' } })).status, 200);
      assert.equal((await fetchText(`${gateway.httpUrl}/keyed`)).status, 401);
      assert.equal((await fetchText(`${gateway.httpUrl}/nowhere`)).status, 404);
      assert.equal((await fetchText(`${gateway.httpUrl}/unnamed`)).status, 502);
    });
    after(() => gateway.stop());

    it("counts kong_http_requests_total with Kong's labels: service, route, code, source, workspace, consumer", async () => {
      const text = await scrape(gateway);
      assert.match(text, /# TYPE kong_http_requests_total counter/);
      assert.equal(sample(text, 'kong_http_requests_total', 'service="api",route="open",code="200",source="service",workspace="default",consumer=""'), 3);
      assert.equal(sample(text, 'kong_http_requests_total', 'service="api",route="keyed",code="200",source="service",workspace="default",consumer="alice"'), 1);
      // key-auth refused it before prometheus's turn: still logged, as the gateway's own answer.
      assert.equal(sample(text, 'kong_http_requests_total', 'service="api",route="keyed",code="401",source="kong",workspace="default",consumer=""'), 1);
      // A service without a name is labelled by its host, a route without one by its id; a failed upstream is the gateway's answer.
      assert.equal(sample(text, 'kong_http_requests_total', 'service="127.0.0.1",route="0b6a6a2e-8f1d-4d8a-9a53-7d0b8d1c1e01",code="502",source="kong",workspace="default",consumer=""'), 1);
      // Matched no route: not counted.
      assert.doesNotMatch(text, /kong_http_requests_total\{[^}]*code="404"/);
      // Portcullis's own metrics are still there.
      assert.match(text, /portcullis_http_requests_total\{service="api",route="open",status_class="2xx"\} 3/);
    });

    it("has Kong's three latency histograms with Kong's buckets and labels", async () => {
      const text = await scrape(gateway);
      const labels = 'service="api",route="open",workspace="default"';
      for (const [name, buckets] of [['kong_kong_latency_ms', KONG_BUCKETS], ['kong_upstream_latency_ms', UPSTREAM_BUCKETS], ['kong_request_latency_ms', UPSTREAM_BUCKETS]] as const) {
        assert.match(text, new RegExp(`# TYPE ${name} histogram`));
        const les = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)",${labels}\\}`, 'gm'))].map((m) => m[1]);
        assert.deepEqual(les, [...buckets.map(String), '+Inf'], name);
        assert.equal(sample(text, `${name}_count`, labels), 3, name);
        assert.equal(sample(text, `${name}_bucket`, `le="+Inf",${labels}`), 3, name);
      }
      // The refused request went nowhere upstream: its upstream latency is not observed.
      assert.equal(sample(text, 'kong_request_latency_ms_count', 'service="api",route="keyed",workspace="default"'), 2);
      assert.equal(sample(text, 'kong_upstream_latency_ms_count', 'service="api",route="keyed",workspace="default"'), 1);
    });

    it('counts kong_bandwidth_bytes by direction, per consumer', async () => {
      const text = await scrape(gateway);
      const ingress = sample(text, 'kong_bandwidth_bytes', 'service="api",route="open",direction="ingress",workspace="default",consumer=""');
      const egress = sample(text, 'kong_bandwidth_bytes', 'service="api",route="open",direction="egress",workspace="default",consumer=""');
      assert.ok(ingress !== null && ingress > 3 * 'GET /open HTTP/1.1\r\n'.length, String(ingress));
      // Three responses of at least a status line and a 2-byte body each.
      assert.ok(egress !== null && egress > 3 * ('HTTP/1.1 200 OK\r\n'.length + 2), String(egress));
      assert.ok((sample(text, 'kong_bandwidth_bytes', 'service="api",route="keyed",direction="egress",workspace="default",consumer="alice"') ?? 0) > 0);
    });

    it("exports kong_upstream_target_health with Kong's four states, kong_datastore_reachable and kong_nginx_metric_errors_total", async () => {
      const text = await scrape(gateway);
      const target = new URL(upstream.url).host;
      for (const state of ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error']) {
        assert.equal(sample(text, 'kong_upstream_target_health', `upstream="pool",target="${target}",address="${target}",state="${state}",subsystem="http"`), state === 'healthchecks_off' ? 1 : 0, state);
      }
      assert.match(text, /^kong_datastore_reachable 1$/m);
      assert.match(text, /^kong_nginx_metric_errors_total 0$/m);
    });
  });

  describe('defaults (every metric group off)', () => {
    let gateway: GatewayProcess;
    before(async () => {
      gateway = await startGatewayProcess({ config: config(upstream.url, '{}') });
      assert.equal((await fetchText(`${gateway.httpUrl}/open`)).status, 200);
    });
    after(() => gateway.stop());

    it('counts no request series, as Kong with status_code_metrics, latency_metrics and bandwidth_metrics off', async () => {
      const text = await scrape(gateway);
      assert.doesNotMatch(text, /^kong_http_requests_total\{/m);
      assert.doesNotMatch(text, /^kong_request_latency_ms_bucket\{/m);
      assert.doesNotMatch(text, /^kong_bandwidth_bytes\{/m);
      assert.doesNotMatch(text, /kong_upstream_target_health/);
      assert.match(text, /^kong_datastore_reachable 1$/m);
    });
  });

  it('without a prometheus plugin, /metrics has none of Kong\'s series', async () => {
    const gateway = await startGatewayProcess({ config: `_format_version: "3.0"\nservices:\n  - name: api\n    url: ${upstream.url}\n    routes: [{ name: open, paths: [/open] }]\n` });
    try {
      await fetchText(`${gateway.httpUrl}/open`);
      assert.doesNotMatch(await scrape(gateway), /^# TYPE kong_/m);
    } finally {
      await gateway.stop();
    }
  });

  it('refuses ai_metrics and wasm_metrics at their paths', async () => {
    const gateway = await startGatewayProcess({ config: config(upstream.url, '{}') });
    try {
      const answer = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'prometheus', route: { name: 'open' }, config: { ai_metrics: true } });
      assert.equal(answer.status, 400);
      assert.match(answer.text, /ai_metrics is not supported/);
    } finally {
      await gateway.stop();
    }
  });

  it('with --workers 2, the counts of both workers add up', async () => {
    const gateway = await startGatewayProcess({ args: ['--workers', '2'], config: config(upstream.url, '{ status_code_metrics: true, latency_metrics: true }') });
    try {
      // New connections each time, so both workers take some.
      for (let i = 0; i < 20; i++) assert.equal((await fetchText(`${gateway.httpUrl}/open`, { headers: { connection: 'close' } })).status, 200);
      const text = await scrape(gateway);
      assert.equal(sample(text, 'kong_http_requests_total', 'service="api",route="open",code="200",source="service",workspace="default",consumer=""'), 20);
      assert.equal(sample(text, 'kong_request_latency_ms_count', 'service="api",route="open",workspace="default"'), 20);
      assert.equal(sample(text, 'kong_request_latency_ms_bucket', 'le="+Inf",service="api",route="open",workspace="default"'), 20);
      assert.match(text, /^kong_datastore_reachable 1$/m);
    } finally {
      await gateway.stop();
    }
  });
});
