// Kong's tutorial "Configure OpenID Connect with cert-bound access tokens", step by step as a user
// types it, against Portcullis: the tutorial's openssl commands (hostname `localhost`), the
// development IdP started with those certificates, the decK steps piped into `portcullis apply -`
// with DECK_ISSUER exported, the token fetched with `curl --cert`, and the gateway called with
// `curl -isk … --cert … --key …`. The same suite runs with each certificate plugin the tutorial names:
// tls-handshake-modifier, and mtls-auth ("Alternatively, you can use the Mutual TLS Authentication
// plugin"). Only the upstream differs: the built-in echo server stands in for httpbin.konghq.com.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { makeUserShell, parseCurlInclude, type CurlResponse, type StartedCommand, type UserShell } from './shell.js';

export type CertificatePlugin = 'tls-handshake-modifier' | 'mtls-auth';

/** The tutorial's certificate commands, with `localhost` for `your.hostname`; keytool (Java) steps left out. */
const generateCertificates = String.raw`
mkdir -p ~/oidc/certs && cd ~/oidc/certs

openssl genrsa -out rootCA.key 4096
openssl req -x509 -new -nodes -key rootCA.key -sha256 -days 3650 \
  -out rootCA.crt \
  -subj "/C=US/ST=State/L=City/O=Organization/OU=Department/CN=Root CA"
echo "Root CA certificate (rootCA.crt) generated successfully."

export PKCS12_PASSWORD='YOUR-PASSWORD'
export KEYSTORE_PASS='YOUR-PASSWORD'

openssl genrsa -out client.key 2048
openssl req -new -key client.key -out client.csr \
  -subj "/C=US/ST=State/L=City/O=ClientOrg/OU=Dev/CN=client-app"
cat > client.ext <<EOF
basicConstraints=CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
EOF
openssl x509 -req \
  -in client.csr \
  -CA rootCA.crt -CAkey rootCA.key -CAcreateserial \
  -out client.crt -days 365 -sha256 -extfile client.ext

openssl genrsa -out keycloak.key 2048
openssl req -new -key keycloak.key -out keycloak.csr \
  -subj "/C=US/ST=State/L=City/O=ClientOrg/OU=Dev/CN=localhost"
cat > keycloak.ext <<EOF
authorityKeyIdentifier=keyid,issuer
basicConstraints=CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @alt_names
[alt_names]
DNS.1 = localhost
EOF
openssl x509 -req \
  -in keycloak.csr \
  -CA rootCA.crt -CAkey rootCA.key -CAcreateserial \
  -out keycloak.crt -days 365 -sha256 -extfile keycloak.ext

openssl pkcs12 -export \
  -in keycloak.crt \
  -inkey keycloak.key \
  -certfile rootCA.crt \
  -out keycloak-keystore.p12 \
  -name keycloak \
  -passout pass:$PKCS12_PASSWORD
`;

/** A second client from the same CA (the tutorial's client recipe, another CN), and one from no CA at all. */
const generateOtherCertificates = String.raw`
cd ~/oidc/certs
openssl genrsa -out other.key 2048
openssl req -new -key other.key -out other.csr \
  -subj "/C=US/ST=State/L=City/O=ClientOrg/OU=Dev/CN=other-app"
openssl x509 -req \
  -in other.csr \
  -CA rootCA.crt -CAkey rootCA.key -CAcreateserial \
  -out other.crt -days 365 -sha256 -extfile client.ext
openssl req -x509 -newkey rsa:2048 -nodes -keyout stranger.key -out stranger.crt -days 1 \
  -subj "/C=US/ST=State/L=City/O=ClientOrg/OU=Dev/CN=client-app" -addext "extendedKeyUsage = clientAuth"
`;

/**
 * The IdP's clients, as the tutorial configures Keycloak's (X509 Certificate authenticator on the
 * subject DN, certificate-bound tokens), plus a second client and a short-lived one for the negative cases.
 */
const clientsYaml = `clients:
  - client_id: kong
    token_endpoint_auth_method: tls_client_auth
    tls_client_auth_subject_dn: "CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US"
  - client_id: other-app
    token_endpoint_auth_method: tls_client_auth
    tls_client_auth_subject_dn: "CN=other-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US"
  - client_id: kong-short-lived
    token_endpoint_auth_method: tls_client_auth
    tls_client_auth_subject_dn: "CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US"
    access_token_ttl: 1
`;

const caCertificateId = '0d769de8-7cc0-4541-989b-f9c23e20054c';

/** The tutorial's "Enable TLS handshake plugin" step, or its mtls-auth alternative. */
function certificatePluginStep(plugin: CertificatePlugin): string {
  if (plugin === 'tls-handshake-modifier') {
    return `echo '
_format_version: "3.0"
plugins:
- name: tls-handshake-modifier
  route: example-route
  config:
    tls_client_certificate: REQUEST
' | portcullis apply -`;
  }
  // mtls-auth names its CAs by the id of a ca_certificates entity: rootCA.crt, pasted in.
  return `cat <<EOF | portcullis apply -
_format_version: "3.0"
ca_certificates:
- id: ${caCertificateId}
  cert: |
$(sed 's/^/    /' rootCA.crt)
plugins:
- name: mtls-auth
  route: example-route
  config:
    ca_certificates:
    - ${caCertificateId}
    skip_consumer_lookup: true
EOF`;
}

const openIdConnectStep = `echo '
_format_version: "3.0"
plugins:
- name: openid-connect
  route: example-route
  config:
    issuer: "\${{ env "DECK_ISSUER" }}"
    auth_methods:
    - bearer
    proof_of_possession_mtls: strict
    proof_of_possession_auth_methods_validation: true
' | portcullis apply -`;

function tokenRequest(idpPort: number, clientId: string, cert: string, key: string): string {
  return `curl -s --location --request POST 'https://localhost:${idpPort}/realms/master/protocol/openid-connect/token' \\
--header 'Content-Type: application/x-www-form-urlencoded' \\
--data-urlencode 'client_id=${clientId}' \\
--data-urlencode 'grant_type=client_credentials' \\
--cert ${cert} \\
--key ${key} \\
--cacert rootCA.crt`;
}

function gatewayRequest(port: number, options: { token: boolean; cert: string | null; key: string | null }): string {
  return [
    'curl -isk \\',
    `-X GET "https://localhost:${port}/anything"`,
    ...(options.token ? ['-H "Authorization:Bearer $ACCESS_TOKEN"'] : []),
    ...(options.cert === null ? [] : [`--cert ${options.cert}`, `--key ${options.key}`]),
  ].join(' \\\n');
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function describeTutorial(plugin: CertificatePlugin): void {
  describe(`Kong's cert-bound token tutorial typed as written, with ${plugin}`, () => {
    let shell: UserShell;
    let certs: string;
    let echo: EchoServer;
    let idp: StartedCommand;
    let idpPort: number;
    let issuer: string;
    let gateway: GatewayProcess;
    let gatewayPort: number;
    let accessToken: string;
    let shortLived: { token: string; exp: number };

    before(async () => {
      shell = await makeUserShell();
      certs = join(shell.home, 'oidc', 'certs');
      echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await gateway?.stop();
      await idp?.stop();
      await echo?.close();
    });

    const sh = async (script: string, env: NodeJS.ProcessEnv = {}): Promise<string> => {
      const result = await shell.run(script, { cwd: certs, env });
      assert.equal(result.code, 0, `${script}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
      return result.stdout;
    };
    const fetchToken = async (clientId: string, cert = 'client.crt', key = 'client.key'): Promise<string> => {
      const body = JSON.parse(await sh(tokenRequest(idpPort, clientId, cert, key))) as { access_token?: string };
      assert.equal(typeof body.access_token, 'string', JSON.stringify(body));
      return body.access_token ?? '';
    };
    /** The tutorial's gateway call; the reason comes from the gateway's access log, found by the response's x-request-id. */
    const callGateway = async (options: { token: string | null; cert?: string | null }): Promise<CurlResponse & { reason: string | null }> => {
      const cert = options.cert === undefined ? 'client.crt' : options.cert;
      const key = cert === null ? null : cert.replace(/\.crt$/, '.key');
      const output = await sh(gatewayRequest(gatewayPort, { token: options.token !== null, cert, key }), { ACCESS_TOKEN: options.token ?? '' });
      const response = parseCurlInclude(output);
      const id = response.headers['x-request-id'];
      const line = await gateway.waitForLog((l) => l['msg'] === 'request' && (l['access'] as { request_id?: string } | undefined)?.request_id === id);
      const access = line['access'] as { reason: string | null; auth: { reason: string } | null };
      return { ...response, reason: access.auth?.reason ?? access.reason };
    };
    const assertRefused = (res: CurlResponse & { reason: string | null }, reason: string, error: 'invalid_token' | null): void => {
      assert.equal(res.status, 401, res.body);
      assert.deepEqual(JSON.parse(res.body), { message: 'Unauthorized' });
      const realm = new URL(issuer).host;
      assert.equal(res.headers['www-authenticate'], error === null ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="${error}"`);
      assert.equal(res.reason, reason);
    };

    it("makes the certificates with the tutorial's openssl commands", async () => {
      const made = await shell.run(generateCertificates + generateOtherCertificates);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /Root CA certificate \(rootCA\.crt\) generated successfully\./);
      const subject = await sh('openssl x509 -in client.crt -noout -subject -nameopt RFC2253');
      assert.equal(subject.trim(), 'subject=CN=client-app,OU=Dev,O=ClientOrg,L=City,ST=State,C=US');
    });

    it('starts the IdP with them, which issues client kong a token bound to client.crt', async () => {
      await writeFile(join(shell.home, 'oidc', 'clients.yaml'), clientsYaml);
      idp = await shell.start(
        'portcullis idp --dir ~/oidc/idp --cert keycloak.crt --key keycloak.key --ca rootCA.crt --clients ~/oidc/clients.yaml --host localhost --port 0',
        /Issuer:\s+(https:\/\/localhost:(\d+)\/realms\/master)\n/,
        { cwd: certs },
      );
      issuer = idp.match[1] ?? '';
      idpPort = Number(idp.match[2]);
      accessToken = await fetchToken('kong');
      // RFC 8705's x5t#S256, computed the openssl way: base64url(SHA-256(DER)).
      const thumbprint = await sh(`openssl x509 -in client.crt -outform DER | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '='`);
      const claims = claimsOf(accessToken);
      assert.deepEqual(claims['cnf'], { 'x5t#S256': thumbprint.trim() });
      assert.equal(claims['iss'], issuer);
      const token = await fetchToken('kong-short-lived');
      shortLived = { token, exp: Number(claimsOf(token)['exp']) };
    });

    it(`applies the required entities, ${plugin} and openid-connect with portcullis apply -`, async () => {
      gateway = await startGatewayProcess({ args: ['--trusted-certificate', join(certs, 'rootCA.crt')] });
      gatewayPort = Number(new URL(gateway.httpsUrl).port);
      const env = { PORTCULLIS_ADMIN_URL: gateway.adminUrl };
      const entities = await sh(
        `echo '
_format_version: "3.0"
services:
  - name: example-service
    url: ${echo.url}/anything
routes:
  - name: example-route
    paths:
      - "/anything"
    service:
      name: example-service
' | portcullis apply -`,
        env,
      );
      assert.equal(entities.trim(), 'created 2, updated 0, unchanged 0');
      const certificatePlugin = await sh(certificatePluginStep(plugin), env);
      assert.equal(certificatePlugin.trim(), plugin === 'mtls-auth' ? 'created 2, updated 0, unchanged 0' : 'created 1, updated 0, unchanged 0');
      const oidc = await sh(`export DECK_ISSUER='${issuer}'\n${openIdConnectStep}`, env);
      assert.equal(oidc.trim(), 'created 1, updated 0, unchanged 0');
    });

    it('answers 200 to the token with the certificate it was issued to', async () => {
      const res = await callGateway({ token: accessToken });
      assert.equal(res.status, 200, res.body);
      assert.equal((JSON.parse(res.body) as { url?: string }).url?.endsWith('/anything'), true);
    });

    it('refuses the token without a certificate', async () => {
      const res = await callGateway({ token: accessToken, cert: null });
      if (plugin === 'mtls-auth') {
        // mtls-auth runs first (priority 1600) and wants a certificate before any token is looked at.
        assert.equal(res.status, 401);
        assert.equal((JSON.parse(res.body) as { message?: string }).message, 'No required TLS certificate was sent');
        assert.equal(res.headers['www-authenticate'], undefined, 'mtls-auth sends no Bearer challenge');
        assert.equal(res.reason, 'no_client_certificate');
      } else {
        assertRefused(res, 'pop_certificate_missing', 'invalid_token');
      }
    });

    it("refuses the token with another certificate from the same CA", async () => {
      assertRefused(await callGateway({ token: accessToken, cert: 'other.crt' }), 'pop_certificate_mismatch', 'invalid_token');
    });

    it('refuses a request without a token', async () => {
      assertRefused(await callGateway({ token: null }), 'no_token', null);
    });

    it("refuses another client's token presented with client.crt", async () => {
      const othersToken = await fetchToken('other-app', 'other.crt', 'other.key');
      assert.equal(await callGateway({ token: othersToken, cert: 'other.crt' }).then((r) => r.status), 200, 'valid with its own certificate');
      assertRefused(await callGateway({ token: othersToken }), 'pop_certificate_mismatch', 'invalid_token');
    });

    it('refuses an expired token', async () => {
      // A 1-second token fetched earlier; wait out what is left of its life rather than mint one.
      const left = shortLived.exp * 1000 + 1000 - Date.now();
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
      assertRefused(await callGateway({ token: shortLived.token }), 'token_expired', 'invalid_token');
    });

    if (plugin === 'mtls-auth') {
      it('refuses a certificate no configured CA signed, before looking at the token', async () => {
        const res = await callGateway({ token: accessToken, cert: 'stranger.crt' });
        assert.equal(res.status, 401);
        assert.equal((JSON.parse(res.body) as { message?: string }).message, 'TLS certificate failed verification');
        assert.equal(res.headers['www-authenticate'], undefined, 'mtls-auth sends no Bearer challenge');
        assert.equal(res.reason, 'certificate_untrusted');
      });
    }
  });
}
