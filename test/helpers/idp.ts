// The development IdP (src/idp) as a real HTTPS identity provider for tests, with the test PKI
// (test/helpers/pki.ts): server certificate for 127.0.0.1/localhost, `pki.ca` trusted for client
// certificates. `requestToken` is the Kong tutorial's curl:
//   curl -X POST $ISSUER/protocol/openid-connect/token -d client_id=kong -d grant_type=client_credentials \
//        --cert client.crt --key client.key --cacert rootCA.crt
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultIdpClients,
  devClientSecret,
  startIdp,
  tutorialSubjectDn,
  type IdpClientConfig,
  type IdpServer,
  type IdpSigningAlg,
} from '../../src/idp/index.js';
import { makeTestPki, type TestCredential, type TestPki } from './pki.js';

export { devClientSecret };

/** Client ids registered by `startTestIdp` unless `clients` replaces them. */
export const testIdpClientIds = {
  /** The tutorial client: tls_client_auth on `CN=client-app, …`, certificate-bound RS256 JWTs. */
  tutorial: 'kong',
  /** Same authentication, opaque certificate-bound tokens (introspection). */
  opaque: 'kong-opaque',
  /** client_secret_basic/post with `devClientSecret`, unbound JWTs. */
  secret: 'kong-secret',
  /** The gateway's introspection client (client_secret_basic, `devClientSecret`). */
  introspection: 'kong-introspection',
  /** self_signed_tls_client_auth with `pki.selfSignedClient`, certificate-bound JWTs. */
  selfSigned: 'kong-self-signed',
  /** Like `kong`, but ES256-signed JWTs. */
  es256: 'kong-es256',
  /** client_secret_basic with `devClientSecret`, DPoP-bound JWTs (a proof is required). */
  dpop: 'kong-dpop',
  /** The same, opaque DPoP-bound tokens (introspection). */
  dpopOpaque: 'kong-dpop-opaque',
} as const;

export interface StartTestIdpOptions {
  /** Replaces the default client list entirely. */
  clients?: IdpClientConfig[];
  /** Added to the default client list. */
  extraClients?: IdpClientConfig[];
  /** Default access token lifetime (seconds); 60 as Keycloak's master realm. Short values make expiry tests fast. */
  accessTokenTtlSeconds?: number;
  /** Default `aud`. Default `urn:portcullis:api`. */
  audience?: string;
  /** Scopes clients may request. Default `['read', 'write']`. */
  scopes?: string[];
  realm?: string;
  /** Key directory; reuse one to restart an IdP with the same keys. Default: a fresh temp dir, removed by close(). */
  dir?: string;
  /** Port; reuse the previous one to restart an IdP under the same issuer. Default 0 (ephemeral). */
  port?: number;
  keyGraceSeconds?: number;
  /** Require IdP nonces in DPoP proofs at the token endpoint. */
  dpopNonces?: boolean;
  /** Print the IdP's log lines (refusal reasons, rotations) to stderr. Default: only when PORTCULLIS_TEST_IDP_LOG is set. */
  log?: boolean;
}

export interface TokenRequestOptions {
  /** Client certificate file; default the tutorial client (`pki.client`). `null` sends no certificate. */
  certPath?: string | null;
  /** Its key file; default the key beside the default certificate. */
  keyPath?: string;
  /** Or give a test credential (certificate, key) directly. */
  credential?: TestCredential;
  /** Default `kong`. */
  clientId?: string;
  /** Space-separated scopes. */
  scope?: string;
  /** Sends this secret (Basic, or in the form with `secretIn: 'body'`). */
  clientSecret?: string;
  secretIn?: 'basic' | 'body';
  /** RFC 8707 resource indicator. */
  resource?: string;
  /** More form parameters. */
  params?: Record<string, string>;
}

export interface TokenResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** `body.access_token` when the request succeeded. */
  access_token?: string;
}

export interface TestIdp {
  idp: IdpServer;
  /** `https://127.0.0.1:PORT/realms/master` */
  issuer: string;
  pki: TestPki;
  /** The key directory. */
  dir: string;
  /** PEM that verifies the IdP's server certificate (the test root CA). */
  caPem: string;
  /** Its file: what a gateway under test needs as `--trusted-certificate` to fetch discovery and the JWKS. */
  caPath: string;
  /** The tutorial's token request over mTLS. */
  requestToken(options?: TokenRequestOptions): Promise<TokenResponse>;
  /** RFC 7662 introspection as the gateway does it (`kong-introspection`, client_secret_basic). */
  introspect(token: string, options?: { clientId?: string; clientSecret?: string; tokenTypeHint?: string }): Promise<{ status: number; body: Record<string, unknown> }>;
  /** GET a path below the issuer (or an absolute URL), JSON-decoded. */
  getJson(pathOrUrl: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Record<string, unknown> }>;
  /**
   * A JWT signed by the IdP's current key, with the claims `kong` would get (iss, sub, aud, client_id,
   * iat, exp = iat + 60, jti, scope, cnf bound to `boundTo` or the tutorial client) merged with
   * `claims` (a claim set to undefined is removed). For expired, wrongly bound or malformed-claim tokens
   * without waiting or an IdP code path.
   */
  mintToken(claims?: Record<string, unknown>, options?: { alg?: IdpSigningAlg; header?: Record<string, unknown>; boundTo?: TestCredential | null }): Promise<string>;
  /** Changes the default access token lifetime of tokens issued from now on. */
  setAccessTokenTtl(seconds: number): void;
  /** Stops the IdP; removes its temp dir unless `dir` was given. */
  close(): Promise<void>;
}

/** The default clients plus the test-only ones (self-signed with `pki.selfSignedClient`, ES256). */
export function testIdpClients(pki: TestPki): IdpClientConfig[] {
  return [
    ...defaultIdpClients(),
    { client_id: testIdpClientIds.selfSigned, token_endpoint_auth_method: 'self_signed_tls_client_auth', certificate_pem: pki.selfSignedClient.certPem },
    {
      client_id: testIdpClientIds.es256,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: tutorialSubjectDn,
      access_token_signing_alg: 'ES256',
    },
  ];
}

/** Starts the development IdP on 127.0.0.1 with the test PKI. Close it in `after`. */
export async function startTestIdp(options: StartTestIdpOptions = {}): Promise<TestIdp> {
  const pki = await makeTestPki();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'portcullis-idp-')));
  const verbose = options.log ?? (process.env['PORTCULLIS_TEST_IDP_LOG'] !== undefined && process.env['PORTCULLIS_TEST_IDP_LOG'] !== '');
  const idp = await startIdp({
    dir,
    host: '127.0.0.1',
    port: options.port ?? 0,
    realm: options.realm,
    tls: { certPem: pki.serverCert.chainPem, keyPem: pki.serverCert.keyPem, caPems: [pki.ca.certPem] },
    clients: options.clients ?? [...testIdpClients(pki), ...(options.extraClients ?? [])],
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
    audience: options.audience,
    scopes: options.scopes,
    keyGraceSeconds: options.keyGraceSeconds,
    dpopNonces: options.dpopNonces,
    log: verbose ? (line) => process.stderr.write(`[idp] ${line}\n`) : undefined,
  });
  const caPem = pki.ca.certPem;

  const send = async (
    url: string,
    init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; cert?: string; key?: string },
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method: init.method,
          headers: { accept: 'application/json', ...init.headers, ...(init.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(init.body)) }) },
          ca: caPem,
          cert: init.cert,
          key: init.key,
          // A fresh connection per request: a pooled one would carry another test's client certificate.
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });
  const parse = (text: string): Record<string, unknown> => {
    try {
      const value: unknown = JSON.parse(text);
      return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : { value };
    } catch {
      return { text };
    }
  };

  return {
    idp,
    issuer: idp.issuer,
    pki,
    dir,
    caPem,
    caPath: pki.ca.certPath,
    async requestToken(opts = {}) {
      let cert: string | undefined;
      let key: string | undefined;
      if (opts.credential !== undefined) {
        cert = opts.credential.chainPem;
        key = opts.credential.keyPem;
      } else if (opts.certPath !== null) {
        cert = await readFile(opts.certPath ?? pki.client.certPath, 'utf8');
        key = await readFile(opts.keyPath ?? (opts.certPath === undefined ? pki.client.keyPath : opts.certPath.replace(/\.pem$/, '-key.pem')), 'utf8');
      }
      const form = new URLSearchParams({ client_id: opts.clientId ?? testIdpClientIds.tutorial, grant_type: 'client_credentials' });
      if (opts.scope !== undefined) form.set('scope', opts.scope);
      if (opts.resource !== undefined) form.set('resource', opts.resource);
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (opts.clientSecret !== undefined) {
        if (opts.secretIn === 'body') form.set('client_secret', opts.clientSecret);
        else {
          form.delete('client_id');
          headers['authorization'] = basic(opts.clientId ?? testIdpClientIds.tutorial, opts.clientSecret);
        }
      }
      for (const [k, v] of Object.entries(opts.params ?? {})) form.set(k, v);
      const res = await send(idp.endpoints.token, { method: 'POST', headers, body: form.toString(), cert, key });
      const body = parse(res.text);
      const token = body['access_token'];
      return { status: res.status, headers: res.headers, body, ...(typeof token === 'string' ? { access_token: token } : {}) };
    },
    async introspect(token, opts = {}) {
      const form = new URLSearchParams({ token });
      if (opts.tokenTypeHint !== undefined) form.set('token_type_hint', opts.tokenTypeHint);
      const res = await send(idp.endpoints.introspection, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(opts.clientId ?? testIdpClientIds.introspection, opts.clientSecret ?? devClientSecret),
        },
        body: form.toString(),
      });
      return { status: res.status, body: parse(res.text) };
    },
    async getJson(pathOrUrl) {
      const url = /^https:/.test(pathOrUrl) ? pathOrUrl : `${idp.issuer}${pathOrUrl}`;
      const res = await send(url, { method: 'GET' });
      return { status: res.status, headers: res.headers, body: parse(res.text) };
    },
    mintToken(claims = {}, opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      const boundTo = opts.boundTo === undefined ? pki.client : opts.boundTo;
      const base: Record<string, unknown> = {
        iss: idp.issuer,
        sub: testIdpClientIds.tutorial,
        aud: options.audience ?? 'urn:portcullis:api',
        client_id: testIdpClientIds.tutorial,
        iat: now,
        exp: now + 60,
        jti: randomUUID(),
        ...(boundTo === null ? {} : { cnf: { 'x5t#S256': boundTo.thumbprint } }),
      };
      const payload = Object.fromEntries(Object.entries({ ...base, ...claims }).filter(([, v]) => v !== undefined));
      return idp.signJwt(payload, { alg: opts.alg, header: opts.header });
    },
    setAccessTokenTtl: (seconds) => idp.setAccessTokenTtl(seconds),
    async close() {
      await idp.close();
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function basic(clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}
