/**
 * opentelemetry against a real OTLP/HTTP receiver (protobuf decoded from the official OTLP
 * definitions) and an upstream that records what reaches it: the server span as a child of the
 * client's W3C trace context, a span per plugin phase, the upstream call's span whose context the
 * upstream receives in traceparent, the auth decision as attributes (a refusal too), the trace id
 * response header, parent-based sampling, resource attributes and collector headers, and Kong's
 * schema rules (shorthands, unsupported formats and logs).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';
import { eventually } from '../helpers/eventually.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';

const config = (upstream: string, receiver: string): string => `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials:
      - key: alice-key
services:
  - name: orders
    url: ${upstream}
    routes:
      - name: traced-route
        paths:
          - /traced
        plugins:
          - name: key-auth
      - name: unsampled-route
        paths:
          - /unsampled
        plugins:
          - name: opentelemetry
            config:
              traces_endpoint: ${receiver}
              sampling_rate: 0
              queue:
                max_coalescing_delay: 0.05
plugins:
  - name: opentelemetry
    config:
      traces_endpoint: ${receiver}
      headers:
        X-Collector-Token: collector-token
      resource_attributes:
        service.name: orders-gateway
      sampling_rate: 1
      http_response_header_for_traceid: X-Trace-Id
      queue:
        max_coalescing_delay: 0.05
`;

const traceparent = (traceId: string, spanId: string, sampled: boolean): string => `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
const newTraceId = (): string => randomBytes(16).toString('hex');
const newSpanId = (): string => randomBytes(8).toString('hex');

describe('opentelemetry', () => {
  let receiver: OtlpReceiver;
  let upstream: RecordingUpstream;
  let gateway: GatewayProcess;

  const spansOf = (traceId: string): ReceivedSpan[] => receiver.spans.filter((span) => span.traceId === traceId);
  const named = (spans: readonly ReceivedSpan[], name: string): ReceivedSpan => {
    const span = spans.find((s) => s.name === name);
    assert.ok(span !== undefined, `no span ${name} in ${spans.map((s) => s.name).join(', ')}`);
    return span;
  };

  before(async () => {
    receiver = await startOtlpReceiver();
    upstream = await startRecordingUpstream();
    gateway = await startGatewayProcess({ config: config(upstream.url, receiver.url) });
  });
  after(async () => {
    await gateway.stop();
    await receiver.close();
    await new Promise((resolve) => upstream.server.close(resolve));
  });

  it("continues the client's trace: a server span, a span per plugin phase, and the upstream call's span that the upstream sees as its parent", async () => {
    const traceId = newTraceId();
    const clientSpan = newSpanId();
    const answer = await fetchText(`${gateway.httpUrl}/traced/items`, { headers: { apikey: 'alice-key', traceparent: traceparent(traceId, clientSpan, true) } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-trace-id'], traceId);
    const sent = String(upstream.seen.at(-1)?.headers.traceparent);
    const [, sentTrace, sentSpan, sentFlags] = sent.split('-');
    assert.equal(sentTrace, traceId);
    assert.equal(sentFlags, '01');

    const spans = await eventually('the spans of the trace', () => spansOf(traceId).some((s) => s.name === 'kong') && spansOf(traceId));
    const root = named(spans, 'kong');
    assert.equal(root.kind, 2, 'server span');
    assert.equal(root.parentSpanId, clientSpan);
    assert.equal(root.attributes['http.method'], 'GET');
    assert.equal(root.attributes['http.status_code'], 200);
    assert.equal(root.attributes['http.route'], '/traced');
    assert.equal(root.attributes['kong.route.name'], 'traced-route');
    assert.equal(root.attributes['portcullis.auth.plugin'], 'key-auth');
    assert.equal(root.attributes['portcullis.auth.outcome'], 'success');
    assert.equal(root.attributes['portcullis.auth.reason'], 'api_key_valid');
    assert.equal(root.resource['service.name'], 'orders-gateway');

    const access = named(spans, 'kong.access.plugin.key-auth');
    assert.equal(access.parentSpanId, root.spanId);
    assert.ok(access.startNs >= root.startNs && access.endNs <= root.endNs, 'a phase lies within its request');
    const balancer = named(spans, 'kong.balancer');
    assert.equal(balancer.kind, 3, 'client span');
    assert.equal(balancer.parentSpanId, root.spanId);
    assert.equal(balancer.spanId, sentSpan, "the upstream's parent is the upstream call's span");
    assert.equal(balancer.attributes['http.status_code'], 200);
    assert.equal(balancer.attributes['try_count'], 1);
    assert.equal(receiver.requests.at(-1)?.['x-collector-token'], 'collector-token');
  });

  it('traces a refusal: the auth reason on the server span, the refusing phase failed, no upstream call, no credential in the URL', async () => {
    const answer = await fetchText(`${gateway.httpUrl}/traced/items?apikey=not-a-key&sku=1`);
    assert.equal(answer.status, 401);
    const traceId = String(answer.headers['x-trace-id']);
    assert.match(traceId, /^[0-9a-f]{32}$/);
    const spans = await eventually('the spans of the refused request', () => spansOf(traceId).some((s) => s.name === 'kong') && spansOf(traceId));
    const root = named(spans, 'kong');
    assert.equal(root.parentSpanId, '', 'no client context: a new trace');
    assert.equal(root.attributes['http.status_code'], 401);
    assert.equal(root.attributes['portcullis.auth.outcome'], 'failure');
    assert.equal(root.attributes['portcullis.auth.reason'], 'invalid_api_key');
    assert.doesNotMatch(String(root.attributes['http.url']), /apikey|not-a-key/);
    assert.equal(named(spans, 'kong.access.plugin.key-auth').statusCode, 2);
    assert.ok(!spans.some((s) => s.name === 'kong.balancer'));
    assert.ok(!JSON.stringify(receiver.spans, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).includes('not-a-key'));
  });

  it('samples by the parent: with sampling_rate 0 a trace without a sampled parent is not exported, one with it is', async () => {
    const unsampled = await fetchText(`${gateway.httpUrl}/unsampled/a`);
    assert.equal(unsampled.status, 200);
    const [, unsampledTrace, , flags] = String(upstream.seen.at(-1)?.headers.traceparent).split('-');
    assert.equal(flags, '00', 'the unsampled decision is propagated');
    const traceId = newTraceId();
    assert.equal((await fetchText(`${gateway.httpUrl}/unsampled/b`, { headers: { traceparent: traceparent(traceId, newSpanId(), true) } })).status, 200);
    await eventually('the sampled-by-parent trace', () => spansOf(traceId).some((s) => s.name === 'kong'));
    assert.deepEqual(spansOf(String(unsampledTrace)), [], 'the trace sampled out is never exported');
  });

  it("takes Kong's deprecated endpoint and batch fields, and refuses what Portcullis does not export or propagate, at their paths", async () => {
    const created = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'opentelemetry', route: { name: 'traced-route' }, config: { endpoint: receiver.url, batch_span_count: 50, batch_flush_delay: 2 } });
    assert.equal(created.status, 201, created.text);
    const plugin = created.json<{ id: string; config: { traces_endpoint: string; queue: { max_batch_size: number; max_coalescing_delay: number } } }>();
    assert.equal(plugin.config.traces_endpoint, receiver.url);
    assert.deepEqual([plugin.config.queue.max_batch_size, plugin.config.queue.max_coalescing_delay], [50, 2]);
    assert.equal((await admin(gateway.adminUrl, 'DELETE', `/plugins/${plugin.id}`)).status, 204);

    const outOfRange = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'opentelemetry', route: { name: 'traced-route' }, config: { traces_endpoint: receiver.url, sampling_rate: 2 } });
    assert.equal(outOfRange.status, 400, outOfRange.text);
    assert.deepEqual(outOfRange.json<{ errors: unknown }>().errors, [{ path: 'config.sampling_rate', message: 'must be at most 1' }]);

    const refused = await admin(gateway.adminUrl, 'POST', '/plugins', {
      name: 'opentelemetry',
      route: { name: 'traced-route' },
      config: { logs_endpoint: receiver.url, propagation: { extract: ['b3', 'w3c'], inject: ['preserve', 'datadog'] } },
    });
    assert.equal(refused.status, 400, refused.text);
    assert.deepEqual(
      refused.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path),
      ['config.logs_endpoint', 'config.propagation.extract[0]', 'config.propagation.inject[1]'],
    );
    assert.match(refused.text, /'b3' is not supported/);
    assert.match(refused.text, /'datadog' is not supported/);
  });
});
