/**
 * Plugin order by Kong's priority table, with every plugin at once on one route: the access phases
 * are observed from outside, through the spans opentelemetry exports (one per plugin phase, with
 * its start time), and compared with the table as Kong documents it (kong-breadth.md §2), written
 * here rather than read from the plugins' definitions. The auth plugins run with `anonymous`, so
 * that each one's access phase runs and the request reaches request-termination, the last.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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

/** The plugins of the route whose access phase does something (so has a span). */
const WITH_ACCESS = ['cors', 'mtls-auth', 'jwt', 'key-auth', 'basic-auth', 'openid-connect', 'header-cert-auth', 'ip-restriction', 'acl', 'rate-limiting', 'opentelemetry', 'request-termination'];

const CA_ID = '5a0a4a3e-8d5c-4a55-9f35-2f6f5f1b1c01';

const config = (receiver: string, issuer: string, caPem: string): string => `_format_version: "3.0"
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
          - name: rate-limiting
            config:
              hour: 1000
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

  before(async () => {
    idp = await startTestIdp();
    receiver = await startOtlpReceiver();
    gateway = await startGatewayProcess({ config: config(receiver.url, idp.issuer, idp.pki.ca.certPem), args: ['--trusted-certificate', idp.caPath] });
  });
  after(async () => {
    await gateway.stop();
    await receiver.close();
    await idp.close();
  });

  it('runs every access phase in descending priority, the auth plugins falling back to anonymous until key-auth identifies the consumer', async () => {
    const answer = await fetchText(`${gateway.httpUrl}/everything`, { headers: { apikey: 'alice-key' } });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json<{ message: string }>().message, 'every plugin ran');
    const spans = await eventually('the access spans', () => {
      const root = receiver.spans.find((s) => s.name === 'kong');
      return root !== undefined && receiver.spans.filter((s) => s.traceId === root.traceId && s.name.startsWith('kong.access.plugin.'));
    });
    const observed = [...spans].sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0)).map((s) => s.name.slice('kong.access.plugin.'.length));
    const expected = [...WITH_ACCESS].sort((a, b) => KONG_PRIORITY[b]! - KONG_PRIORITY[a]!);
    assert.deepEqual(observed, expected);
  });
});
