// Attack corpus, part 2: RFC 8705 certificate binding. Tokens are valid (issued by the development
// IdP, or signed with its real key) and only their binding to the TLS client certificate is under
// attack: missing, foreign or look-alike certificates, re-encoded `cnf` thumbprints, other
// confirmation methods, TLS session resumption and renegotiation, and client-certificate headers
// sent by peers that are not the trusted proxy. Each refusal is checked for its status, its RFC 6750
// challenge, its reason code in the access log, and that the upstream saw nothing.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { IssuedCertificate, KeyAndCert } from '../../src/certs/index.js';
import { testIdpClientIds } from '../helpers/idp.js';
import { trustedProxyAddress, useAttackSuite, type AttackSuite, type ConnectOptions, type Refusal } from './attack-harness.js';

const suite = useAttackSuite();
const invalidToken = (reason: string): Refusal => ({ status: 401, reason, error: 'invalid_token' });

/** Certificates and tokens made once the suite runs. */
let sameSubjectOtherKey: IssuedCertificate;
/** A client certificate whose thumbprint holds '-' or '_', so standard base64 differs from base64url. */
let urlSafeThumbprintClient: IssuedCertificate;
/** A token the IdP issued to the self-signed client (`self_signed_tls_client_auth`): certificate B's own token. */
let tokenB: string;

const digest = (cert: KeyAndCert): Buffer => createHash('sha256').update(new X509Certificate(cert.certPem).raw).digest();
const der = (cert: KeyAndCert): Buffer => new X509Certificate(cert.certPem).raw;
/** RFC 8705 §3.1: base64url(SHA-256(DER)). */
const thumbprintOf = (cert: KeyAndCert): string => digest(cert).toString('base64url');

// This file's preparation runs in a describe-level hook, so it runs after the suite's whatever the
// runner does with several root-level hooks.
describe('RFC 8705 certificate-binding attacks', () => {
  before(async () => {
    sameSubjectOtherKey = await suite.issueClient();
    for (let i = 0; ; i++) {
      const candidate = await suite.issueClient('CN=url-safe-thumbprint-app');
      if (/[-_]/.test(candidate.thumbprint)) {
        urlSafeThumbprintClient = candidate;
        break;
      }
      if (i === 30) throw new Error('no certificate with - or _ in its thumbprint after 30 tries');
    }
    const issued = await suite.idp.requestToken({ clientId: testIdpClientIds.selfSigned, credential: suite.pki.selfSignedClient });
    if (issued.access_token === undefined) throw new Error(`no token for the self-signed client: ${JSON.stringify(issued.body)}`);
    tokenB = issued.access_token;
  });

  // ---------------------------------------------------------------------------------------------

  describe('controls: bound tokens pass with their own certificate', () => {
    it("the IdP's token for the tutorial client (A), with A: 200", async () => {
      const res = await suite.send({ path: '/strict/anything', token: suite.idpToken }, { credential: suite.pki.client });
      const record = await suite.expectPassed(res);
      assert.equal(record.thumbprint, suite.pki.client.thumbprint);
    });

    it("the IdP's token for the self-signed client (B), with B: 200", async () => {
      const res = await suite.send({ path: '/strict/anything', token: tokenB }, { credential: suite.pki.selfSignedClient });
      const record = await suite.expectPassed(res);
      assert.equal(record.thumbprint, suite.pki.selfSignedClient.thumbprint);
    });

    it('tokens the corpus signs for the look-alike certificates pass with those certificates', async () => {
      for (const cert of [sameSubjectOtherKey, urlSafeThumbprintClient]) {
        const token = suite.sign(suite.claims({}, cert));
        await suite.expectPassed(await suite.send({ path: '/strict/anything', token }, { credential: cert }));
      }
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe("the wrong certificate for A's token (verified and cached by the controls)", () => {
    const cases: ReadonlyArray<readonly [string, (s: AttackSuite) => KeyAndCert | null, string]> = [
      ['no client certificate', () => null, 'pop_certificate_missing'],
      ['another client certificate from the same CA (CN=other-app)', (s) => s.pki.otherClient, 'pop_certificate_mismatch'],
      ['the same subject, another key, the same CA', () => sameSubjectOtherKey, 'pop_certificate_mismatch'],
      ['the same subject from an untrusted CA', (s) => s.pki.otherCaClient, 'pop_certificate_mismatch'],
      ["B's self-signed certificate", (s) => s.pki.selfSignedClient, 'pop_certificate_mismatch'],
      ['an expired certificate from the same CA', (s) => s.pki.expiredClient, 'pop_certificate_mismatch'],
      ['the server certificate of the test CA', (s) => s.pki.serverCert, 'pop_certificate_mismatch'],
      // Only the leaf counts: A's certificate sent as if it were an intermediate of another one.
      ["another certificate with A's certificate appended to its chain", (s) => ({ certPem: `${s.pki.otherClient.certPem}${s.pki.client.certPem}`, keyPem: s.pki.otherClient.keyPem }), 'pop_certificate_mismatch'],
    ];
    for (const [name, credential, reason] of cases) {
      it(name, async () => {
        const cert = credential(suite);
        const res = await suite.send({ path: '/strict/anything', token: suite.idpToken }, { credential: cert });
        const record = await suite.expectRefused(res, invalidToken(reason), name);
        assert.equal(record.thumbprint, cert === null ? null : thumbprintOf(cert));
      });
    }

    it('plain HTTP, no TLS at all', async () => {
      const res = await suite.send({ path: '/strict/anything', token: suite.idpToken }, { transport: 'plain' });
      const record = await suite.expectRefused(res, invalidToken('pop_certificate_missing'));
      assert.equal(record.thumbprint, null);
    });

    it("B's token with A's certificate", async () => {
      const res = await suite.send({ path: '/strict/anything', token: tokenB }, { credential: suite.pki.client });
      await suite.expectRefused(res, invalidToken('pop_certificate_mismatch'));
    });
  });


  // ---------------------------------------------------------------------------------------------
  // cnf."x5t#S256" spelt another way. Each token is signed with the IdP's real key and presented with
  // the very certificate whose SHA-256 it encodes: only the encoding is wrong. RFC 8705 §3.1 says
  // base64url without padding; the plugin refuses every other spelling instead of normalising it.

  interface CnfCase {
    readonly name: string;
    readonly cert: () => KeyAndCert;
    readonly cnf: (cert: KeyAndCert) => unknown;
    readonly reason: string;
  }

  const cnfCases: readonly CnfCase[] = [
    { name: 'hex', cert: () => suite.pki.client, cnf: (c) => ({ 'x5t#S256': digest(c).toString('hex') }), reason: 'pop_claim_invalid' },
    { name: 'upper-case hex', cert: () => suite.pki.client, cnf: (c) => ({ 'x5t#S256': digest(c).toString('hex').toUpperCase() }), reason: 'pop_claim_invalid' },
    { name: 'base64url with "=" padding', cert: () => suite.pki.client, cnf: (c) => ({ 'x5t#S256': `${digest(c).toString('base64url')}=` }), reason: 'pop_claim_invalid' },
    { name: 'standard base64 (+ and /), unpadded', cert: () => urlSafeThumbprintClient, cnf: (c) => ({ 'x5t#S256': digest(c).toString('base64').replace(/=+$/, '') }), reason: 'pop_claim_invalid' },
    { name: 'standard base64, padded', cert: () => urlSafeThumbprintClient, cnf: (c) => ({ 'x5t#S256': digest(c).toString('base64') }), reason: 'pop_claim_invalid' },
    { name: 'base64url upper-cased', cert: () => suite.pki.client, cnf: (c) => ({ 'x5t#S256': digest(c).toString('base64url').toUpperCase() }), reason: 'pop_certificate_mismatch' },
    { name: 'base64url with surrounding spaces', cert: () => suite.pki.client, cnf: (c) => ({ 'x5t#S256': ` ${digest(c).toString('base64url')} ` }), reason: 'pop_claim_invalid' },
    { name: 'base64url of the SHA-1 (x5t#S256 holding a SHA-1)', cert: () => suite.pki.client, cnf: (c) => ({ 'x5t#S256': createHash('sha1').update(der(c)).digest('base64url') }), reason: 'pop_claim_invalid' },
    { name: 'SHA-256 of the public key, not the certificate', cert: () => suite.pki.client, cnf: (c) => ({ 'x5t#S256': createHash('sha256').update(new X509Certificate(c.certPem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64url') }), reason: 'pop_certificate_mismatch' },
    { name: 'the right value in a list', cert: () => suite.pki.client, cnf: (c) => ({ 'x5t#S256': [thumbprintOf(c)] }), reason: 'pop_claim_invalid' },
    { name: 'the right value as an object', cert: () => suite.pki.client, cnf: (c) => ({ 'x5t#S256': { value: thumbprintOf(c) } }), reason: 'pop_claim_invalid' },
    { name: 'cnf as the bare thumbprint string', cert: () => suite.pki.client, cnf: (c) => thumbprintOf(c), reason: 'pop_claim_invalid' },
    { name: 'cnf as a list', cert: () => suite.pki.client, cnf: (c) => [{ 'x5t#S256': thumbprintOf(c) }], reason: 'pop_claim_invalid' },
    // Other confirmation methods: the token is not certificate-bound, and strict wants it to be.
    { name: 'cnf with only jkt (DPoP, RFC 9449)', cert: () => suite.pki.client, cnf: () => ({ jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' }), reason: 'pop_claim_missing' },
    { name: 'cnf with only jwk (RFC 7800)', cert: () => suite.pki.client, cnf: (c) => ({ jwk: new X509Certificate(c.certPem).publicKey.export({ format: 'jwk' }) }), reason: 'pop_claim_missing' },
    { name: 'cnf with only x5t (SHA-1)', cert: () => suite.pki.client, cnf: (c) => ({ x5t: createHash('sha1').update(der(c)).digest('base64url') }), reason: 'pop_claim_missing' },
    { name: 'cnf with "X5T#S256" (wrong case)', cert: () => suite.pki.client, cnf: (c) => ({ 'X5T#S256': thumbprintOf(c) }), reason: 'pop_claim_missing' },
    { name: 'cnf with "x5t#s256" (wrong case)', cert: () => suite.pki.client, cnf: (c) => ({ 'x5t#s256': thumbprintOf(c) }), reason: 'pop_claim_missing' },
    { name: 'cnf {}', cert: () => suite.pki.client, cnf: () => ({}), reason: 'pop_claim_missing' },
    { name: 'cnf null', cert: () => suite.pki.client, cnf: () => null, reason: 'pop_claim_missing' },
    { name: 'no cnf at all', cert: () => suite.pki.client, cnf: () => undefined, reason: 'pop_claim_missing' },
  ];

  describe('cnf."x5t#S256" spelt otherwise, or other confirmation methods only', () => {
    it('the two encodings really differ for the certificate used in the base64 cases', () => {
      assert.notEqual(digest(urlSafeThumbprintClient).toString('base64').replace(/=+$/, ''), urlSafeThumbprintClient.thumbprint);
    });
    for (const c of cnfCases) {
      it(c.name, async () => {
        const cert = c.cert();
        const token = suite.sign(suite.claims({ cnf: c.cnf(cert) }));
        const res = await suite.send({ path: '/strict/anything', token }, { credential: cert });
        await suite.expectRefused(res, invalidToken(c.reason), c.name);
      });
    }
  });

  // ---------------------------------------------------------------------------------------------
  // TLS session resumption. A resumed session carries the certificate of the full handshake that made
  // it (no Certificate message is sent: RFC 8446 §4.3.2, RFC 5246 §7.3), whatever the client has
  // configured now. So a session made with A and resumed by a client that offers B is A's: A's token
  // passes on it (that client holds A's session secret), B's does not; and a session made without a
  // certificate never gains one.

  describe('TLS session resumption', () => {
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      it(`${version}: a session made with A and resumed presenting B is A's: B's token refused, A's accepted`, async () => {
        const session = await sessionOf({ credential: suite.pki.client, maxVersion: version }, suite.idpToken);
        const resumed = await suite.connect({ credential: suite.pki.selfSignedClient, session, maxVersion: version });
        assert.equal(resumed.reused, true, 'the session was resumed');
        const withB = await resumed.request({ path: '/strict/anything', token: tokenB });
        resumed.close();
        const record = await suite.expectRefused(withB, invalidToken('pop_certificate_mismatch'));
        assert.equal(record.thumbprint, suite.pki.client.thumbprint, 'the resumed connection carries A');

        const again = await suite.connect({ credential: suite.pki.selfSignedClient, session, maxVersion: version });
        assert.equal(again.reused, true, 'the session was resumed');
        const withA = await again.request({ path: '/strict/anything', token: suite.idpToken });
        again.close();
        const passed = await suite.expectPassed(withA);
        assert.equal(passed.thumbprint, suite.pki.client.thumbprint);
      });

      it(`${version}: a session made with B and resumed presenting A: A's token refused`, async () => {
        const session = await sessionOf({ credential: suite.pki.selfSignedClient, maxVersion: version }, tokenB);
        const resumed = await suite.connect({ credential: suite.pki.client, session, maxVersion: version });
        assert.equal(resumed.reused, true, 'the session was resumed');
        const res = await resumed.request({ path: '/strict/anything', token: suite.idpToken });
        resumed.close();
        const record = await suite.expectRefused(res, invalidToken('pop_certificate_mismatch'));
        assert.equal(record.thumbprint, suite.pki.selfSignedClient.thumbprint);
      });

      it(`${version}: a session made without a certificate and resumed presenting A: still no certificate`, async () => {
        const session = await sessionOf({ credential: null, maxVersion: version }, null);
        const resumed = await suite.connect({ credential: suite.pki.client, session, maxVersion: version });
        assert.equal(resumed.reused, true, 'the session was resumed');
        const res = await resumed.request({ path: '/strict/anything', token: suite.idpToken });
        resumed.close();
        const record = await suite.expectRefused(res, invalidToken('pop_certificate_missing'));
        assert.equal(record.thumbprint, null);
      });
    }
  });

  /** A session from a full handshake with `options`, after one request (TLS 1.3 tickets come after the handshake). */
  async function sessionOf(options: ConnectOptions, token: string | null): Promise<Buffer> {
    const connection = await suite.connect(options);
    assert.equal(connection.reused, false);
    const res = await connection.request({ path: '/strict/anything', token, close: false });
    if (token !== null) await suite.expectPassed(res, 'the full handshake');
    else await suite.expectRefused(res, { status: 401, reason: 'no_token', error: null }, 'the full handshake');
    connection.close();
    const session = connection.session;
    assert.ok(session !== undefined, 'the server offered a session');
    return session;
  }

  describe('TLS renegotiation', () => {
    it('TLS 1.2: a renegotiation the client starts ends the connection, and nothing sent after it passes', async () => {
      const connection = await suite.connect({ credential: suite.pki.client, maxVersion: 'TLSv1.2' });
      const first = await connection.request({ path: '/strict/anything', token: suite.idpToken, close: false });
      await suite.expectPassed(first, 'before the renegotiation');

      const socket = connection.socket as TLSSocket;
      const outcome = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('no answer'), 5000);
        const done = (what: string): void => {
          clearTimeout(timer);
          resolve(what);
        };
        socket.once('close', () => done('closed'));
        const started = socket.renegotiate({ rejectUnauthorized: false }, (error) => done(error === null ? 'renegotiated' : 'refused'));
        if (!started) done('not started');
      });
      // The client did start one (TLS 1.2), and the gateway answered it by ending the connection.
      assert.ok(outcome === 'closed' || outcome === 'refused', `renegotiation outcome: ${outcome}`);

      const before = suite.upstream.total();
      const second = await connection.request({ path: '/strict/anything', token: suite.idpToken }).catch(() => null);
      assert.ok(second === null || second.status !== 200, `a request after the renegotiation attempt got ${second?.status}`);
      assert.equal(await connection.waitClosed(), true, 'the gateway closed the connection');
      connection.close();
      assert.equal(suite.upstream.total(), before, 'nothing reached the upstream after the renegotiation attempt');
      if (second !== null) {
        assert.equal(suite.upstream.hitsFor(second.requestId), 0);
        // Let any line of the refused connection arrive, then check none is the second request's.
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(suite.gateway.logs.some((l) => JSON.stringify(l).includes(second.requestId)), false);
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  // Client-certificate headers. The gateway trusts 127.0.0.2 (--trusted-ips); 127.0.0.1 is any client.
  // /strict takes the certificate only from TLS; /from-header only from X-Client-Cert
  // (proof_of_possession_mtls_from_header, secure_source: true).

  /** Every way a proxy might forward A's certificate. */
  function forgedHeadersFor(cert: KeyAndCert): Array<[string, string]> {
    const pem = encodeURIComponent(cert.certPem);
    return [
      ['X-Client-Cert', pem],
      ['Client-Cert', `:${der(cert).toString('base64')}:`],
      ['Client-Cert-Chain', `:${der(cert).toString('base64')}:, :${der({ certPem: suite.pki.ca.certPem, keyPem: '' }).toString('base64')}:`],
      ['X-Forwarded-Client-Cert', `Hash=${digest(cert).toString('hex')};Cert="${pem}";Subject="CN=client-app"`],
      ['X-SSL-Client-Cert', pem],
    ];
  }

  describe('client-certificate headers from an untrusted peer are not a certificate', () => {
    const untrusted: ConnectOptions = {};
    for (const index of [0, 1, 2, 3, 4]) {
      it(`TLS without a certificate, A's token, and only ${['X-Client-Cert', 'Client-Cert', 'Client-Cert-Chain', 'X-Forwarded-Client-Cert', 'X-SSL-Client-Cert'][index]} naming A`, async () => {
        const header = forgedHeadersFor(suite.pki.client)[index]!;
        const res = await suite.send({ path: '/strict/anything', token: suite.idpToken, headers: [header] }, { ...untrusted, credential: null });
        await suite.expectRefused(res, invalidToken('pop_certificate_missing'));
      });
    }

    it("TLS without a certificate, A's token, every header naming A", async () => {
      const res = await suite.send({ path: '/strict/anything', token: suite.idpToken, headers: forgedHeadersFor(suite.pki.client) }, { credential: null });
      await suite.expectRefused(res, invalidToken('pop_certificate_missing'));
    });

    it("TLS with another certificate, A's token, every header naming A", async () => {
      const res = await suite.send({ path: '/strict/anything', token: suite.idpToken, headers: forgedHeadersFor(suite.pki.client) }, { credential: suite.pki.otherClient });
      const record = await suite.expectRefused(res, invalidToken('pop_certificate_mismatch'));
      assert.equal(record.thumbprint, suite.pki.otherClient.thumbprint);
    });

    it("from the trusted proxy too, a route without proof_of_possession_mtls_from_header ignores the headers", async () => {
      const res = await suite.send({ path: '/strict/anything', token: suite.idpToken, headers: forgedHeadersFor(suite.pki.client) }, { credential: null, localAddress: trustedProxyAddress });
      await suite.expectRefused(res, invalidToken('pop_certificate_missing'));
    });

    it("/from-header, plain HTTP from an untrusted peer: the header is removed, A's token has no certificate", async () => {
      const res = await suite.send({ path: '/from-header/anything', token: suite.idpToken, headers: [['X-Client-Cert', encodeURIComponent(suite.pki.client.certPem)]] }, { transport: 'plain' });
      await suite.expectRefused(res, invalidToken('pop_certificate_missing'));
    });

    it('/from-header, from an untrusted peer that also presents A in TLS: the header is the only source', async () => {
      const res = await suite.send({ path: '/from-header/anything', token: suite.idpToken, headers: [['X-Client-Cert', encodeURIComponent(suite.pki.client.certPem)]] }, { credential: suite.pki.client });
      await suite.expectRefused(res, invalidToken('pop_certificate_missing'));
    });

    it('/from-header, an untrusted peer sending the header twice: removed (no 400), no certificate', async () => {
      const pem = encodeURIComponent(suite.pki.client.certPem);
      const res = await suite.send({ path: '/from-header/anything', token: suite.idpToken, headers: [['X-Client-Cert', pem], ['X-Client-Cert', pem]] }, { transport: 'plain' });
      await suite.expectRefused(res, invalidToken('pop_certificate_missing'));
    });

    it('control: with A in TLS, forged headers naming another certificate change nothing, and never reach the upstream', async () => {
      const res = await suite.send({ path: '/strict/anything', token: suite.idpToken, headers: forgedHeadersFor(suite.pki.otherClient) }, { credential: suite.pki.client });
      const record = await suite.expectPassed(res);
      assert.equal(record.thumbprint, suite.pki.client.thumbprint);
      const seen = suite.upstream.requests.find((r) => r.requestId === res.requestId);
      for (const name of ['x-client-cert', 'client-cert', 'client-cert-chain', 'x-forwarded-client-cert']) assert.equal(seen?.headers[name], undefined, name);
    });
  });

  describe('client-certificate headers from the trusted proxy (/from-header)', () => {
    const trusted: ConnectOptions = { transport: 'plain', localAddress: trustedProxyAddress };
    const fromHeader = (cert: KeyAndCert | string, token: () => string = () => suite.idpToken) => ({
      path: '/from-header/anything',
      token: token(),
      headers: [['X-Client-Cert', typeof cert === 'string' ? cert : encodeURIComponent(cert.certPem)]] as Array<[string, string]>,
    });

    it("control: A's certificate in the header, A's token: 200, and the header's certificate is the request's", async () => {
      const record = await suite.expectPassed(await suite.send(fromHeader(suite.pki.client), trusted));
      assert.equal(record.thumbprint, suite.pki.client.thumbprint);
    });

    const cases: ReadonlyArray<readonly [string, () => ReturnType<typeof fromHeader>, Refusal]> = [
      ['another certificate from the same CA', () => fromHeader(suite.pki.otherClient), invalidToken('pop_certificate_mismatch')],
      ['the same subject, another key', () => fromHeader(sameSubjectOtherKey), invalidToken('pop_certificate_mismatch')],
      ['A\'s subject from an untrusted CA, with a token bound to it', () => fromHeader(suite.pki.otherCaClient, () => suite.sign(suite.claims({}, suite.pki.otherCaClient))), invalidToken('pop_certificate_untrusted')],
      ['an expired certificate, with a token bound to it', () => fromHeader(suite.pki.expiredClient, () => suite.sign(suite.claims({}, suite.pki.expiredClient))), invalidToken('pop_certificate_untrusted')],
      ['a self-signed certificate, with a token bound to it', () => fromHeader(suite.pki.selfSignedClient, () => tokenB), invalidToken('pop_certificate_untrusted')],
      ["another certificate followed by A's, as if A were its chain", () => fromHeader(encodeURIComponent(`${suite.pki.otherClient.certPem}${suite.pki.client.certPem}`)), invalidToken('pop_certificate_mismatch')],
      ['a header that is not a certificate', () => fromHeader('not-a-certificate'), invalidToken('pop_certificate_invalid')],
      ['a header holding a truncated PEM', () => fromHeader(encodeURIComponent(suite.pki.client.certPem.slice(0, 300))), invalidToken('pop_certificate_invalid')],
      ['the header sent twice (A, then another)', () => ({ ...fromHeader(suite.pki.client), headers: [['X-Client-Cert', encodeURIComponent(suite.pki.client.certPem)], ['X-Client-Cert', encodeURIComponent(suite.pki.otherClient.certPem)]] }), { status: 400, reason: 'certificate_header_duplicated', error: 'none', byPlugin: false }],
      ['the header sent twice (A, then A)', () => ({ ...fromHeader(suite.pki.client), headers: [['X-Client-Cert', encodeURIComponent(suite.pki.client.certPem)], ['x-client-cert', encodeURIComponent(suite.pki.client.certPem)]] }), { status: 400, reason: 'certificate_header_duplicated', error: 'none', byPlugin: false }],
    ];
    for (const [name, make, refusal] of cases) {
      it(name, async () => {
        const res = await suite.send(make(), trusted);
        await suite.expectRefused(res, refusal, name);
        if (refusal.status === 400) assert.equal((JSON.parse(res.body) as { message: string }).message, 'Malformed client certificate header');
      });
    }

    it('RFC 9440 Client-Cert sent twice by the trusted proxy: 400 before routing', async () => {
      const value = `:${der(suite.pki.client).toString('base64')}:`;
      const res = await suite.send({ path: '/strict/anything', token: suite.idpToken, headers: [['Client-Cert', value], ['Client-Cert', value]] }, { credential: suite.pki.client, localAddress: trustedProxyAddress });
      await suite.expectRefused(res, { status: 400, reason: 'certificate_header_duplicated', error: 'none', byPlugin: false });
    });
  });
});
