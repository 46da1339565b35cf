/**
 * Plugin order by Kong's priority table, with every plugin at once on one route: the access and
 * header_filter phases are observed from outside, through the spans opentelemetry exports (one per
 * plugin phase, with its start time), and compared with the table as Kong documents it
 * (kong-breadth.md §2), written here rather than read from the plugins' definitions; the log plugins
 * (prometheus, http-log, file-log) are seen to have logged the request. The auth plugins run with
 * `anonymous`, so that each one's access phase runs and the request reaches request-termination, the last.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startCountingUpstream, type CountingUpstream } from '../helpers/counting-upstream.js';
import { eventually } from '../helpers/eventually.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';

/** Kong's priorities, highest first (Kong Enterprise's for mtls-auth, header-cert-auth, openid-connect). */
const KONG_PRIORITY: Readonly<Record<string, number>> = {
  'correlation-id': 100001,
  cors: 2000,
  'mtls-auth': 1600,
  jwt: 1450,
  'key-auth': 1250,
  'basic-auth': 1100,
  'openid-connect': 1050,
  'header-cert-auth': 1009,
  'ip-restriction': 990,
  'request-size-limiting': 951,
  acl: 950,
  'rate-limiting': 910,
  'request-transformer': 801,
  'response-transformer': 800,
  opentelemetry: 14,
  prometheus: 13,
  'http-log': 12,
  'file-log': 9,
  'request-termination': 2,
};

/** The plugins of the route with an access phase (so an access span), and with a header_filter. */
const WITH_ACCESS = ['correlation-id', 'cors', 'mtls-auth', 'jwt', 'key-auth', 'basic-auth', 'openid-connect', 'header-cert-auth', 'ip-restriction', 'request-size-limiting', 'acl', 'rate-limiting', 'request-transformer', 'opentelemetry', 'request-termination'];
const WITH_HEADER_FILTER = ['correlation-id', 'cors', 'response-transformer', 'opentelemetry'];

const CA_ID = '5a0a4a3e-8d5c-4a55-9f35-2f6f5f1b1c01';

const config = (receiver: string, issuer: string, caPem: string, collector: string, logFile: string): string => `_format_version: "3.0"
ca_certificates:
  - id: ${CA_ID}
    cert: |
${caPem.trim().split('\n').map((line) => `      ${line}`).join('\n')}
consumers:
  - username: anonymous
  - username: alice
    keyauth_credentials:
      - key: alice-key
    acls:
      - group: gold
services:
  - name: everything
    url: http://127.0.0.1:9
    routes:
      - name: everything-route
        paths:
          - /everything
        plugins:
          - name: correlation-id
            config:
              echo_downstream: true
          - name: cors
          - name: mtls-auth
            config:
              ca_certificates: [${CA_ID}]
              anonymous: anonymous
          - name: jwt
            config:
              anonymous: anonymous
          - name: key-auth
            config:
              anonymous: anonymous
          - name: basic-auth
            config:
              anonymous: anonymous
          - name: openid-connect
            config:
              issuer: ${issuer}
              auth_methods: [bearer]
              anonymous: anonymous
          - name: header-cert-auth
            config:
              certificate_header_name: X-Client-Cert
              certificate_header_format: base64_encoded
              ca_certificates: [${CA_ID}]
              anonymous: anonymous
          - name: ip-restriction
            config:
              allow: [127.0.0.1, "::1"]
          - name: acl
            config:
              allow: [gold]
          - name: request-size-limiting
            config:
              allowed_payload_size: 1
          - name: rate-limiting
            config:
              hour: 1000
          - name: request-transformer
            config:
              add:
                headers: ["x-transformed:yes"]
          - name: response-transformer
            config:
              add:
                headers: ["x-response-transformed:yes"]
          - name: prometheus
            config:
              status_code_metrics: true
          - name: http-log
            config:
              http_endpoint: ${collector}
          - name: file-log
            config:
              path: ${logFile}
          - name: opentelemetry
            config:
              traces_endpoint: ${receiver}
              sampling_rate: 1
              queue:
                max_coalescing_delay: 0.05
          - name: request-termination
            config:
              status_code: 200
              message: every plugin ran
`;

describe("plugin order: Kong's priority table, every plugin on one route", () => {
  let idp: TestIdp;
  let receiver: OtlpReceiver;
  let gateway: GatewayProcess;
  let collector: CountingUpstream;
  let logFile: string;

  before(async () => {
    idp = await startTestIdp();
    receiver = await startOtlpReceiver();
    collector = await startCountingUpstream();
    logFile = join(await mkdtemp(join(tmpdir(), 'portcullis-order-')), 'requests.log');
    gateway = await startGatewayProcess({ config: config(receiver.url, idp.issuer, idp.pki.ca.certPem, collector.url, logFile), args: ['--trusted-certificate', idp.caPath] });
  });
  after(async () => {
    await gateway.stop();
    await receiver.close();
    await new Promise((resolve) => collector.server.close(resolve));
    await idp.close();
  });

  it('runs every access and header_filter phase in descending priority (the auth plugins anonymous until key-auth identifies the consumer), and every log plugin', async () => {
    const answer = await fetchText(`${gateway.httpUrl}/everything`, { headers: { apikey: 'alice-key' } });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json<{ message: string }>().message, 'every plugin ran');
    const spans = await eventually('the access spans', () => {
      const root = receiver.spans.find((s) => s.name === 'kong');
      return root !== undefined && receiver.spans.filter((s) => s.traceId === root.traceId && s.name.startsWith('kong.access.plugin.'));
    });
    const traceId = spans[0]!.traceId;
    const phaseOrder = (phase: string): string[] =>
      receiver.spans
        .filter((s) => s.traceId === traceId && s.name.startsWith(`kong.${phase}.plugin.`))
        .sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0))
        .map((s) => s.name.slice(`kong.${phase}.plugin.`.length));
    const byPriority = (names: readonly string[]): string[] => [...names].sort((a, b) => KONG_PRIORITY[b]! - KONG_PRIORITY[a]!);
    assert.deepEqual(phaseOrder('access'), byPriority(WITH_ACCESS));
    await eventually('the header_filter spans', () => phaseOrder('header_filter').length === WITH_HEADER_FILTER.length);
    assert.deepEqual(phaseOrder('header_filter'), byPriority(WITH_HEADER_FILTER));
    // The response passed every header_filter; each log plugin saw the request.
    assert.match(String(answer.headers['kong-request-id']), /.+/);
    assert.equal(answer.headers['x-response-transformed'], 'yes');
    await eventually('http-log delivered', () => collector.hits() > 0);
    await eventually('file-log wrote', async () => (await readFile(logFile, 'utf8').catch(() => '')).includes('/everything'));
    const metrics = await admin(gateway.adminUrl, 'GET', '/metrics');
    assert.match(metrics.text, /kong_http_requests_total\{service="everything",route="everything-route",code="200"/);
  });
});
