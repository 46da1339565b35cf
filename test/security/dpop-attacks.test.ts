// Attack corpus, part 3: RFC 9449 DPoP at the resource server, against a real gateway process with
// the development IdP as the issuer. Tokens are DPoP-bound by the IdP itself (oauth4webapi at the
// token endpoint, clients kong-dpop / kong-dpop-opaque), or signed with the IdP's real keys when an
// odd token is needed; proofs come from panva's `dpop` package, or are built byte for byte with
// node:crypto keys. Requests are written by hand on real TCP/TLS connections (Host, absolute-form
// targets, repeated fields, X-Forwarded-* from a trusted or an untrusted source address). Every
// refusal is checked four ways: exact status, exact WWW-Authenticate, nothing reached the upstream,
// the reason code in the gateway's JSON access log. Cases are numbered after the resource-server
// list in shared/reference/dpop.md §8 where they come from it.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, KeyObject, randomBytes, randomUUID, type JsonWebKey } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import * as dpop from 'dpop';
import type { KeyAndCert } from '../../src/certs/index.js';
import { NonceMinter } from '../../src/dpop/nonce.js';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import type { AccessRecord } from '../../src/server/access-log.js';
import { readNonceKey } from '../../src/state/nonce-key.js';
import { dpopAccessToken } from '../helpers/dpop-token.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { devClientSecret, startTestIdp, testIdpClientIds, type TestIdp } from '../helpers/idp.js';
import {
  b64url,
  ecSigner,
  hmacSigner,
  jwsWithSignature,
  loadIdpSigningKeys,
  rsaSigner,
  signingInput,
  signJws,
  startCountingUpstream,
  type CountingUpstream,
  type IdpSigningKey,
  type Signer,
  type UpstreamRequest,
} from './attack-harness.js';
import { parseResponses } from './http-harness.js';

// ---------------------------------------------------------------------------------------------
// Constants the gateway is configured with, and what its challenges must say.

/** The source address the gateway believes X-Forwarded-* from (`--trusted-ips`); 127.0.0.1 is not trusted. */
const trustedProxy = '127.0.0.2';
/** `dpop_proof_algorithms` by default: Kong's ten plus Ed25519, in the documented order. */
const ALL_ALGS = 'RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519';
/** The `/fapi` route's list. */
const FAPI_ALGS = 'PS256 ES256 EdDSA';
const LIFETIME = 300;
/** The gateway's default --max-header-size (README): Node's own default would be 16 KiB. */
const MAX_HEADER_SIZE = 32 * 1024;

// ---------------------------------------------------------------------------------------------
// Keys and proofs.

interface ProofKey {
  /** For the `dpop` package and oauth4webapi. */
  readonly pair: dpop.KeyPair;
  readonly privateKey: KeyObject;
  /** The public JWK (kty, crv, x, y). */
  readonly jwk: JsonWebKey;
  readonly signer: Signer;
  /** RFC 7638 thumbprint, computed here (not by the code under test). */
  readonly jkt: string;
}

/** RFC 7638 §3: the required members, lexicographic order, no whitespace, SHA-256, base64url. */
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

async function proofKey(): Promise<ProofKey> {
  const pair = await dpop.generateKeyPair('ES256', { extractable: true });
  const privateKey = KeyObject.from(pair.privateKey);
  const jwk = KeyObject.from(pair.publicKey).export({ format: 'jwk' });
  return { pair, privateKey, jwk, signer: ecSigner(privateKey), jkt: thumbprint(jwk) };
}

/** base64url(SHA-256(ASCII token)), computed here. */
const ath = (token: string): string => createHash('sha256').update(token, 'ascii').digest('base64url');
const nowSeconds = (): number => Date.now() / 1000;
const clean = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

interface ProofSpec {
  /** Whose jwk goes in the header and signs (default K). */
  readonly key?: ProofKey;
  /** Signs instead of the key (a signature that does not match the jwk). */
  readonly signer?: Signer;
  /** Merged over `{typ: dpop+jwt, alg: ES256, jwk}`; undefined removes a member. */
  readonly header?: Record<string, unknown>;
  /** Merged over `{jti, htm, htu, iat, ath}`; undefined removes a claim. */
  readonly claims?: Record<string, unknown>;
  /** Default: the TLS listener's `/strict/anything`. */
  readonly htu?: string;
  readonly htm?: string;
  /** `ath` is over this token (default T). */
  readonly token?: string;
}

// ---------------------------------------------------------------------------------------------
// The suite's state, made in `before`.

interface State {
  idp: TestIdp;
  echo: EchoServer;
  upstream: CountingUpstream;
  gateway: GatewayProcess;
  keys: { rsa: IdpSigningKey; ec: IdpSigningKey };
  /** K: the key the main token is bound to; K2: another client's key. */
  K: ProofKey;
  K2: ProofKey;
  /** A DPoP-bound JWT the IdP issued for K (kong-dpop). */
  T: string;
  /** The same for K2. */
  T2: string;
  /** A DPoP-bound opaque token the IdP issued for K (kong-dpop-opaque). */
  opaqueT: string;
  /** An opaque token bound to the tutorial client's certificate, not to a DPoP key (kong-opaque). */
  opaqueCertBound: string;
  /** An unbound JWT (kong-secret). */
  unbound: string;
  /** The gateway's own nonce key, read from its prefix. */
  minter: NonceMinter;
  tlsPort: number;
  plainPort: number;
  realm: string;
}
let S: State;

const url = (path: string, transport: 'tls' | 'plain' = 'tls'): string => (transport === 'tls' ? `https://localhost:${S.tlsPort}${path}` : `http://localhost:${S.plainPort}${path}`);

/** A proof built byte for byte (header and claims as given, signed with node:crypto). */
function proof(spec: ProofSpec = {}): string {
  const key = spec.key ?? S.K;
  const header = clean({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk, ...spec.header });
  const claims = clean({
    jti: randomUUID(),
    htm: spec.htm ?? 'GET',
    htu: spec.htu ?? url('/strict/anything'),
    iat: Math.floor(nowSeconds()),
    ath: ath(spec.token ?? S.T),
    ...spec.claims,
  });
  return signJws(header, claims, spec.signer ?? key.signer);
}

/** A proof from panva's `dpop` package. */
const libProof = (key: ProofKey, htu: string, token: string, nonce?: string, htm = 'GET'): Promise<string> => dpop.generateProof(key.pair, htu, htm, nonce, token);

/** A token signed with the IdP's real key: T's header and claims (fresh jti, iat, exp) with `overrides`. */
function forge(overrides: Record<string, unknown>): string {
  const [h = '', p = ''] = S.T.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const now = Math.floor(nowSeconds());
  const key = header['kid'] === S.keys.ec.kid ? S.keys.ec : S.keys.rsa;
  return signJws(header, clean({ ...claims, jti: randomUUID(), iat: now, exp: now + 60, ...overrides }), key.signer);
}

/** A valid proof padded (an extra claim, an extra header parameter) to exactly `length` characters. */
function proofOfLength(length: number): string {
  for (let h = 0; h < 4; h++) {
    const make = (pad: number): string => proof({ header: { pad: 'h'.repeat(h) }, claims: { pad: 'p'.repeat(pad) } });
    const start = Math.max(0, Math.floor(((length - make(0).length) * 3) / 4) - 8);
    for (let pad = start; pad < start + 16; pad++) {
      const value = make(pad);
      if (value.length === length) return value;
    }
  }
  throw new Error(`no proof of exactly ${length} characters`);
}

const dpopAuth = (token: string, proofValue: string): Array<[string, string]> => [
  ['Authorization', `DPoP ${token}`],
  ['DPoP', proofValue],
];

// ---------------------------------------------------------------------------------------------
// Requests by hand.

interface Req {
  readonly method?: string;
  /** The request target (origin-form or absolute-form); default `/strict/anything`. */
  readonly target?: string;
  /** Host header; default `localhost:<listener port>`; null: none. */
  readonly host?: string | null;
  /** Header lines after Host and X-Request-Id, in order (names may repeat). */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
  readonly transport?: 'tls' | 'plain';
  /** Source address (127.0.0.2: the trusted proxy). */
  readonly localAddress?: string;
  /** Client certificate in the TLS handshake. */
  readonly credential?: KeyAndCert;
}

interface Exchange {
  readonly requestId: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly upstreamBefore: number;
}

/** Writes `bytes` on a fresh connection and reads until the server closes it. */
function rawExchange(port: number, bytes: Buffer, req: Req): Promise<string> {
  return new Promise((resolve, reject) => {
    const tcp = netConnect({ host: '127.0.0.1', port, localAddress: req.localAddress });
    const socket: Socket = req.transport === 'plain' ? tcp : tlsConnect({ socket: tcp, rejectUnauthorized: false, cert: req.credential?.certPem, key: req.credential?.keyPem });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(finish, 10_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', finish);
    socket.on('end', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may answer (431) and close while a long head is still being written.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish();
      else if (!done) {
        done = true;
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.once(req.transport === 'plain' ? 'connect' : 'secureConnect', () => socket.write(bytes));
  });
}

async function send(req: Req): Promise<Exchange> {
  const transport = req.transport ?? 'tls';
  const port = transport === 'tls' ? S.tlsPort : S.plainPort;
  const requestId = `dpop-${randomUUID()}`;
  const host = req.host === undefined ? `localhost:${port}` : req.host;
  const lines: Array<readonly [string, string]> = [...(host === null ? [] : [['Host', host] as const]), ['X-Request-Id', requestId], ...(req.headers ?? [])];
  if (req.body !== undefined) lines.push(['Content-Length', String(Buffer.byteLength(req.body))]);
  lines.push(['Connection', 'close']);
  const head = `${req.method ?? 'GET'} ${req.target ?? '/strict/anything'} HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  const upstreamBefore = S.upstream.total();
  const text = await rawExchange(port, Buffer.from(head + (req.body ?? ''), 'latin1'), req);
  const response = parseResponses(text)[0];
  if (response === undefined) return { requestId, status: 0, headers: {}, body: text, upstreamBefore };
  return { requestId, upstreamBefore, status: response.status, headers: { ...response.headers }, body: response.body };
}

async function accessRecord(requestId: string): Promise<AccessRecord> {
  const line = await S.gateway.waitForLog((l) => l['msg'] === 'request' && (l['access'] as AccessRecord | undefined)?.request_id === requestId);
  return line['access'] as AccessRecord;
}

// ---------------------------------------------------------------------------------------------
// The four-way checks.

const dpopChallenge = (error?: string, algs = ALL_ALGS): string => `DPoP algs="${algs}", realm="${S.realm}"${error === undefined ? '' : `, error="${error}"`}`;
const bearerChallenge = (error?: string): string => `Bearer realm="${S.realm}"${error === undefined ? '' : `, error="${error}"`}`;

interface Expect {
  readonly status: number;
  readonly reason: string;
  /** The exact WWW-Authenticate; null: none at all. */
  readonly challenge: string | null;
  /** openid-connect decided (default): `auth` is its failure; false: refused before any plugin. */
  readonly byPlugin?: boolean;
  /** The refusal must carry a fresh, valid DPoP-Nonce (the nonce route); otherwise none. */
  readonly nonce?: boolean;
  /** Expected body (default `{"message":"Unauthorized"}` for a plugin's 401). */
  readonly body?: unknown;
}

/** Strict mode: every DPoP failure carries `invalid_dpop_proof` on the only (DPoP) challenge. */
const invalidProof = (reason: string, algs = ALL_ALGS): Expect => ({ status: 401, reason, challenge: dpopChallenge('invalid_dpop_proof', algs) });
/** The nonce route: use_dpop_nonce (or invalid_dpop_proof) plus a fresh nonce. */
const nonceRefusal = (reason: string, error = 'use_dpop_nonce'): Expect => ({ status: 401, reason, challenge: dpopChallenge(error), nonce: true });

async function refused(ex: Exchange, e: Expect, note = ''): Promise<AccessRecord> {
  const what = `${note} (${ex.status} ${JSON.stringify(ex.headers['www-authenticate'])} ${ex.body.slice(0, 200)})`;
  assert.equal(ex.status, e.status, `status ${what}`);
  assert.equal(ex.headers['www-authenticate'], e.challenge ?? undefined, `WWW-Authenticate ${what}`);
  const byPlugin = e.byPlugin ?? true;
  if (e.body !== undefined) assert.deepEqual(JSON.parse(ex.body), e.body, `body ${what}`);
  else if (byPlugin && e.status === 401) assert.deepEqual(JSON.parse(ex.body), { message: 'Unauthorized' }, `body ${what}`);
  if (e.nonce === true) {
    const nonce = ex.headers['dpop-nonce'];
    assert.match(nonce ?? '', /^[A-Za-z0-9_-]{30}$/, `DPoP-Nonce ${what}`);
    const check = S.minter.check(nonce ?? '', nowSeconds(), LIFETIME, 5);
    assert.ok(check.ok && Math.abs(check.issuedAt - nowSeconds()) < 3, `a fresh nonce of the gateway ${what}`);
  } else {
    assert.equal(ex.headers['dpop-nonce'], undefined, `no DPoP-Nonce ${what}`);
  }
  // The gateway answers with the id the client sent, except for what Node's parser refused (a fresh one).
  const id = ex.headers['x-request-id'] ?? ex.requestId;
  const record = await accessRecord(id);
  assert.equal(S.upstream.hitsFor(ex.requestId), 0, `the upstream saw the request ${what}`);
  assert.equal(S.upstream.total(), ex.upstreamBefore, `the upstream saw a request while this one ran ${what}`);
  assert.equal(record.status, e.status, `access-log status ${what}`);
  assert.equal(record.reason, e.reason, `access-log reason ${what}`);
  assert.equal(record.latency_ms.upstream, null, `access-log upstream latency ${what}`);
  if (byPlugin) assert.deepEqual(record.auth, { plugin: 'openid-connect', outcome: 'failure', reason: e.reason }, `access-log auth ${what}`);
  else assert.equal(record.auth, null, `access-log auth ${what}`);
  return record;
}

/** A 200 that reached the upstream once, with `Authorization: Bearer <token>` and no DPoP header. */
async function passed(ex: Exchange, token: string, auth = 'jwt_verified_dpop', note = ''): Promise<UpstreamRequest> {
  const what = `${note} (${ex.status} ${JSON.stringify(ex.headers['www-authenticate'])} ${ex.body.slice(0, 300)})`;
  assert.equal(ex.status, 200, `status ${what}`);
  const record = await accessRecord(ex.requestId);
  assert.equal(S.upstream.hitsFor(ex.requestId), 1, `the upstream got it once ${what}`);
  assert.equal(record.reason, null, `access-log reason ${what}`);
  assert.deepEqual(record.auth, { plugin: 'openid-connect', outcome: 'success', reason: auth }, `access-log auth ${what}`);
  const seen = S.upstream.requests.find((r) => r.requestId === ex.requestId);
  if (seen === undefined) throw new assert.AssertionError({ message: `no upstream request ${what}` });
  assert.equal(seen.headers.authorization, `Bearer ${token}`, `upstream Authorization ${what}`);
  assert.equal(seen.headers.dpop, undefined, `no DPoP header upstream ${what}`);
  return seen;
}

/** A refusal case: the request is built once the suite runs. */
interface Case {
  readonly name: string;
  readonly req: () => Req | Promise<Req>;
  readonly expect: () => Expect;
  /** What the gateway gets wrong (the case keeps the correct expectation). */
  readonly todo?: string;
}

function refusals(title: string, cases: readonly Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(c.name, c.todo === undefined ? {} : { todo: c.todo }, async () => {
        await refused(await send(await c.req()), c.expect(), c.name);
      });
    }
  });
}

/** T with this proof on the strict route. */
const strictWith = (proofValue: string, target = '/strict/anything'): Req => ({ target, headers: dpopAuth(S.T, proofValue) });

// ---------------------------------------------------------------------------------------------
// The gateway.

function gatewayConfig(issuer: string, upstreamUrl: string): string {
  const oidc = (route: string, extra: string): string => `  - name: openid-connect
    route: ${route}
    config:
      issuer: ${issuer}
${extra}`;
  return `_format_version: "3.0"
services:
  - name: upstream
    url: ${upstreamUrl}/anything
    routes:
      - { name: strict, paths: ["/strict"] }
      - { name: optional, paths: ["/optional"] }
      - { name: nonce, paths: ["/nonce"] }
      - { name: fapi, paths: ["/fapi"] }
      - { name: both, paths: ["/both"] }
      - { name: opaque, paths: ["/opaque"] }
plugins:
${oidc('strict', `      auth_methods: [bearer]\n      proof_of_possession_dpop: strict\n      dpop_proof_lifetime: ${LIFETIME}\n`)}${oidc(
    'optional',
    '      auth_methods: [bearer]\n      proof_of_possession_dpop: optional\n',
  )}${oidc('nonce', `      auth_methods: [bearer]\n      proof_of_possession_dpop: strict\n      dpop_use_nonce: true\n      dpop_proof_lifetime: ${LIFETIME}\n`)}${oidc(
    'fapi',
    `      auth_methods: [bearer]\n      proof_of_possession_dpop: strict\n      dpop_proof_algorithms: [${FAPI_ALGS.split(' ').join(', ')}]\n`,
  )}  - name: tls-handshake-modifier
    route: both
    config: { tls_client_certificate: REQUEST }
${oidc('both', '      auth_methods: [bearer]\n      proof_of_possession_mtls: strict\n      proof_of_possession_dpop: strict\n')}${oidc(
    'opaque',
    `      auth_methods: [introspection]\n      client_id: [${testIdpClientIds.introspection}]\n      client_secret: [${devClientSecret}]\n      proof_of_possession_dpop: strict\n`,
  )}`;
}

/** A DPoP-bound token from the IdP's token endpoint, as a real client gets one. */
async function dpopToken(idp: TestIdp, clientId: string, key: ProofKey): Promise<string> {
  const result = await dpopAccessToken(idp, clientId, key.pair);
  if (result.token_type.toLowerCase() !== 'dpop') throw new Error(`token_type ${result.token_type}`);
  return result.access_token;
}

// Everything below lives in one describe with its own hooks: its preparation runs in order, after the
// suite's, whatever the runner does with several root-level hooks.
describe('RFC 9449 DPoP attacks against a gateway process', () => {
  before(async () => {
    const idp = await startTestIdp();
    const echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const upstream = await startCountingUpstream(echo);
    const gateway = await startGatewayProcess({
      config: gatewayConfig(idp.issuer, upstream.url),
      args: ['--trusted-certificate', idp.caPath, '--trusted-ips', `${trustedProxy}/32`],
    });
    const [K, K2] = await Promise.all([proofKey(), proofKey()]);
    const [T, T2, opaqueT] = await Promise.all([dpopToken(idp, testIdpClientIds.dpop, K), dpopToken(idp, testIdpClientIds.dpop, K2), dpopToken(idp, testIdpClientIds.dpopOpaque, K)]);
    const certBound = await idp.requestToken({ clientId: testIdpClientIds.opaque });
    const unbound = await idp.requestToken({ clientId: testIdpClientIds.secret, clientSecret: devClientSecret });
    if (certBound.access_token === undefined || unbound.access_token === undefined) throw new Error('the IdP issued no token');
    const port = (ssl: boolean): number => gateway.listeners.find((l) => l.kind === 'proxy' && l.ssl === ssl)?.port ?? 0;
    S = {
      idp,
      echo,
      upstream,
      gateway,
      keys: await loadIdpSigningKeys(idp.dir),
      K,
      K2,
      T,
      T2,
      opaqueT,
      opaqueCertBound: certBound.access_token,
      unbound: unbound.access_token,
      minter: new NonceMinter(await readNonceKey(`${gateway.prefix}/dpop-nonce.key`)),
      tlsPort: port(true),
      plainPort: port(false),
      realm: new URL(idp.issuer).host,
    };
  });

  after(async () => {
    await S?.gateway.stop();
    await S?.upstream.close();
    await S?.echo.close();
    await S?.idp.close();
  });

  // -------------------------------------------------------------------------------------------

  describe('controls: the corpus can tell a good proof from a bad one', () => {
    it("the IdP binds T to K: cnf.jkt is K's RFC 7638 thumbprint (computed here and by the dpop package)", async () => {
      const claims = JSON.parse(Buffer.from(S.T.split('.')[1] ?? '', 'base64url').toString()) as { cnf?: Record<string, unknown> };
      assert.deepEqual(claims.cnf, { jkt: S.K.jkt });
      assert.equal(await dpop.calculateThumbprint(S.K.pair.publicKey), S.K.jkt);
      assert.notEqual(S.K.jkt, S.K2.jkt);
    });

    it('§8.1 T with a proof from the dpop package: 200; the upstream gets Bearer T, no DPoP header, the client-facing path stripped', async () => {
      const seen = await passed(await send(strictWith(await libProof(S.K, url('/strict/anything'), S.T))), S.T);
      // §8.31: the route strips /strict, the proof's htu named /strict/anything.
      assert.equal(seen.url, '/anything/anything');
    });

    it("a proof built byte for byte by the corpus passes, and so does a token the corpus signs with the IdP's real key", async () => {
      await passed(await send(strictWith(proof())), S.T, 'jwt_verified_dpop', 'hand-built proof');
      const forged = forge({});
      await passed(await send({ headers: dpopAuth(forged, proof({ token: forged })) }), forged, 'jwt_verified_dpop', 'forged token');
    });

    it('§8.2 the scheme is case-insensitive: `dpop T` and `DPOP T` pass', async () => {
      for (const scheme of ['dpop', 'DPOP', 'dPoP']) {
        await passed(await send({ headers: [['Authorization', `${scheme} ${S.T}`], ['DPoP', proof()]] }), S.T, 'jwt_verified_dpop', scheme);
      }
    });

    it('§8.3 the header name is case-insensitive: `DPOP:` and `dpop:` pass', async () => {
      for (const name of ['DPOP', 'dpop']) {
        await passed(await send({ headers: [['Authorization', `DPoP ${S.T}`], [name, proof()]] }), S.T, 'jwt_verified_dpop', name);
      }
    });

    it('§8.47 extra header parameters and claims are ignored', async () => {
      await passed(await send(strictWith(proof({ header: { tx_id: 'abc', kid: 'whatever' }, claims: { extra: { nested: [1, 2] }, sub: 'someone' } }))), S.T);
    });

    it('§8.34 a fractional iat is accepted', async () => {
      await passed(await send(strictWith(proof({ claims: { iat: nowSeconds() - 0.5 } }))), S.T);
    });

    it('§8.14 typ `DPOP+JWT` and `application/dpop+jwt` are accepted (as documented)', async () => {
      for (const typ of ['DPOP+JWT', 'application/dpop+jwt']) await passed(await send(strictWith(proof({ header: { typ } }))), S.T, 'jwt_verified_dpop', typ);
    });

    it('a jti of exactly 256 characters is accepted', async () => {
      await passed(await send(strictWith(proof({ claims: { jti: 'j'.repeat(256) } }))), S.T);
    });

    it('a DPoP value of exactly 8192 characters is accepted', async () => {
      const value = proofOfLength(8192);
      assert.equal(value.length, 8192);
      await passed(await send(strictWith(value)), S.T);
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('§8.36 replay: key = thumbprint + jti', () => {
    it('the same proof twice: 200, then 401 dpop_proof_replayed', async () => {
      const p = await libProof(S.K, url('/strict/anything'), S.T);
      await passed(await send(strictWith(p)), S.T, 'jwt_verified_dpop', 'first use');
      await refused(await send(strictWith(p)), invalidProof('dpop_proof_replayed'), 'second use');
    });

    it('a new proof by the same key reusing an accepted jti is a replay (whatever else changed)', async () => {
      const jti = randomUUID();
      await passed(await send(strictWith(proof({ claims: { jti } }))), S.T);
      const other = proof({ claims: { jti, iat: Math.floor(nowSeconds()) - 1, extra: 1 }, htu: url('/strict/elsewhere') });
      await refused(await send(strictWith(other, '/strict/elsewhere')), invalidProof('dpop_proof_replayed'));
    });

    it("the node's store spans routes: the same key and jti on another route is a replay", async () => {
      const jti = randomUUID();
      await passed(await send(strictWith(proof({ claims: { jti } }))), S.T);
      const other = proof({ claims: { jti }, htu: url('/optional/anything') });
      await refused(await send({ target: '/optional/anything', headers: dpopAuth(S.T, other) }), {
        status: 401,
        reason: 'dpop_proof_replayed',
        challenge: `${bearerChallenge()}, ${dpopChallenge('invalid_dpop_proof')}`,
      });
    });

    it('the same jti by another key, for its own token, is not a replay', async () => {
      const jti = `shared-${randomUUID()}`;
      await passed(await send(strictWith(proof({ claims: { jti } }))), S.T, 'jwt_verified_dpop', 'K');
      await passed(await send({ headers: dpopAuth(S.T2, proof({ key: S.K2, token: S.T2, claims: { jti } })) }), S.T2, 'jwt_verified_dpop', 'K2, same jti');
      // …and K2's use of it counts from now on.
      await refused(await send({ headers: dpopAuth(S.T2, proof({ key: S.K2, token: S.T2, claims: { jti } })) }), invalidProof('dpop_proof_replayed'), 'K2 again');
    });

    it('a refused request does not use up its proof: Bearer T + P refused, then DPoP T + P passes once', async () => {
      const p = proof();
      await refused(await send({ headers: [['Authorization', `Bearer ${S.T}`], ['DPoP', p]] }), invalidProof('dpop_token_downgraded'), 'as Bearer');
      await passed(await send(strictWith(p)), S.T, 'jwt_verified_dpop', 'as DPoP');
      await refused(await send(strictWith(p)), invalidProof('dpop_proof_replayed'), 'again');
    });

    it('a proof refused for its key does not use up the jti of the right key', async () => {
      const jti = randomUUID();
      await refused(await send(strictWith(proof({ key: S.K2, claims: { jti } }))), invalidProof('dpop_key_mismatch'));
      await passed(await send(strictWith(proof({ claims: { jti } }))), S.T);
    });
  });

  // -------------------------------------------------------------------------------------------

  refusals('downgrades and duplicates (§8.4–§8.9, §7.2)', [
    { name: '§8.4 no credentials at all: 401 no_token, the DPoP challenge without error', req: () => ({}), expect: () => ({ status: 401, reason: 'no_token', challenge: dpopChallenge() }) },
    { name: '§8.5 DPoP T without a DPoP header', req: () => ({ headers: [['Authorization', `DPoP ${S.T}`]] }), expect: () => invalidProof('dpop_proof_missing') },
    { name: 'DPoP T with an empty DPoP header', req: () => ({ headers: [['Authorization', `DPoP ${S.T}`], ['DPoP', '']] }), expect: () => invalidProof('dpop_proof_missing') },
    { name: '§8.6 the bound token as Bearer, no proof', req: () => ({ headers: [['Authorization', `Bearer ${S.T}`]] }), expect: () => invalidProof('dpop_token_downgraded') },
    { name: '§8.7 the bound token as Bearer with a valid proof', req: () => ({ headers: [['Authorization', `Bearer ${S.T}`], ['DPoP', proof()]] }), expect: () => invalidProof('dpop_token_downgraded') },
    {
      name: 'the bound token in the access_token query argument with a valid proof',
      req: () => ({ target: `/strict/anything?access_token=${S.T}`, headers: [['DPoP', proof()]] }),
      expect: () => invalidProof('dpop_token_downgraded'),
    },
    { name: 'the bound token in X-Access-Token with a valid proof', req: () => ({ headers: [['X-Access-Token', S.T], ['DPoP', proof()]] }), expect: () => invalidProof('dpop_token_downgraded') },
    {
      name: 'the bound token in a form body with a valid proof (POST)',
      req: () => ({ method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded'], ['DPoP', proof({ htm: 'POST' })]], body: `access_token=${S.T}` }),
      expect: () => invalidProof('dpop_token_downgraded'),
    },
    { name: '§8.8 two DPoP header lines', req: () => ({ headers: [['Authorization', `DPoP ${S.T}`], ['DPoP', proof()], ['DPoP', proof()]] }), expect: () => invalidProof('dpop_proof_multiple') },
    { name: '§8.8 two DPoP lines, the same proof twice', req: () => { const p = proof(); return { headers: [['Authorization', `DPoP ${S.T}`], ['DPoP', p], ['dpop', p]] }; }, expect: () => invalidProof('dpop_proof_multiple') },
    { name: '§8.9 one DPoP value `P, P2`', req: () => strictWith(`${proof()}, ${proof()}`), expect: () => invalidProof('dpop_proof_multiple') },
    { name: 'one DPoP value `P,P2` (no space)', req: () => strictWith(`${proof()},${proof()}`), expect: () => invalidProof('dpop_proof_multiple') },
    { name: 'an unbound token as Bearer (strict)', req: () => ({ headers: [['Authorization', `Bearer ${S.unbound}`]] }), expect: () => invalidProof('dpop_scheme_required') },
    { name: '§8.39 an unbound token as DPoP with a valid proof (strict)', req: () => ({ headers: dpopAuth(S.unbound, proof({ token: S.unbound })) }), expect: () => invalidProof('dpop_binding_missing') },
  ]);

  describe('§8.10 two Authorization lines', () => {
    const twoLines = (): Req => ({ headers: [['Authorization', `Bearer ${S.T}`], ['Authorization', `DPoP ${S.T}`], ['DPoP', proof()]] });

    it('400 header_duplicated before any plugin runs, nothing upstream', async () => {
      const ex = await send(twoLines());
      assert.equal(ex.status, 400);
      const record = await accessRecord(ex.requestId);
      assert.deepEqual(JSON.parse(ex.body), { message: 'Bad Request', request_id: ex.requestId });
      assert.equal(record.reason, 'header_duplicated');
      assert.equal(record.auth, null);
      assert.equal(S.upstream.hitsFor(ex.requestId), 0);
      assert.equal(S.upstream.total(), ex.upstreamBefore);
      // The same for DPoP + DPoP, with two different tokens.
      const other = await send({ headers: [['Authorization', `DPoP ${S.T}`], ['Authorization', `DPoP ${S.T2}`], ['DPoP', proof()]] });
      assert.equal(other.status, 400);
      assert.equal((await accessRecord(other.requestId)).reason, 'header_duplicated');
    });

    // RFC 9449 Fig. 19 shows invalid_request on the challenges; Portcullis refuses two credentials in the
    // core, before any plugin (the same rule for every auth plugin), so the 400 names no scheme (documented).
    it("the 400 is the core's: no challenge, whatever the route's schemes", async () => {
      const ex = await send(twoLines());
      assert.equal(ex.status, 400);
      assert.equal(ex.headers['www-authenticate'], undefined);
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('htu: what the client asked for, as the gateway sees it (§8.25–§8.31)', () => {
    it('§8.26 htu with a query and a fragment: 200', async () => {
      await passed(await send(strictWith(proof({ htu: `${url('/strict/anything')}?a=1#f` }))), S.T);
    });

    it('§8.27 a request with a query, htu without: 200', async () => {
      await passed(await send(strictWith(proof(), '/strict/anything?x=1')), S.T);
    });

    it('§8.28 scheme and host case: `HTTPS://LOCALHOST:<port>`: 200', async () => {
      await passed(await send(strictWith(proof({ htu: `HTTPS://LOCALHOST:${S.tlsPort}/strict/anything` }))), S.T);
    });

    it('§8.29 the default port either side: Host gw.test:443 with htu https://gw.test/…, Host gw.test with htu https://gw.test:443/…: 200', async () => {
      await passed(await send({ host: 'gw.test:443', headers: dpopAuth(S.T, proof({ htu: 'https://gw.test/strict/anything' })) }), S.T, 'jwt_verified_dpop', 'port in Host');
      await passed(await send({ host: 'gw.test', headers: dpopAuth(S.T, proof({ htu: 'https://gw.test:443/strict/anything' })) }), S.T, 'jwt_verified_dpop', 'port in htu');
    });

    it('dot segments and percent-encoded unreserved characters are normalised: 200', async () => {
      await passed(await send(strictWith(proof({ htu: url('/strict/x/../anything') }))), S.T, 'jwt_verified_dpop', 'dot segments');
      await passed(await send(strictWith(proof({ htu: url('/strict/~user') }), '/strict/%7euser')), S.T, 'jwt_verified_dpop', '%7e');
    });

    it('an IPv6 literal Host with its port: a proof for it passes', async () => {
      await passed(await send({ host: `[::1]:${S.tlsPort}`, headers: dpopAuth(S.T, proof({ htu: `https://[::1]:${S.tlsPort}/strict/anything` })) }), S.T);
    });

    it('another Host than the listener: a proof naming that host passes (routes without hosts)', async () => {
      await passed(await send({ host: 'other.test', headers: dpopAuth(S.T, proof({ htu: 'https://other.test/strict/anything' })) }), S.T);
    });

    it('an absolute-form target names the authority: a proof for it passes', async () => {
      await passed(await send({ target: 'https://other.test/strict/anything', headers: dpopAuth(S.T, proof({ htu: 'https://other.test/strict/anything' })) }), S.T);
    });
  });

  refusals('htu mismatches', [
    { name: '§8.25 another path (/strict/anythingohnonotagain)', req: () => strictWith(proof({ htu: url('/strict/anythingohnonotagain') })), expect: () => invalidProof('dpop_htu_mismatch') },
    { name: 'a trailing slash more', req: () => strictWith(proof({ htu: url('/strict/anything/') })), expect: () => invalidProof('dpop_htu_mismatch') },
    { name: 'the path in another case', req: () => strictWith(proof({ htu: url('/STRICT/anything') })), expect: () => invalidProof('dpop_htu_mismatch') },
    { name: "§8.31 the upstream's path (after strip_path) instead of the client's", req: () => strictWith(proof({ htu: url('/anything/anything') })), expect: () => invalidProof('dpop_htu_mismatch') },
    { name: 'another port', req: () => strictWith(proof({ htu: `https://localhost:${S.plainPort}/strict/anything` })), expect: () => invalidProof('dpop_htu_mismatch') },
    { name: '§8.29 http:// on the TLS listener', req: () => strictWith(proof({ htu: `http://localhost:${S.tlsPort}/strict/anything` })), expect: () => invalidProof('dpop_htu_mismatch') },
    {
      name: 'an absolute-form http:// target on the TLS listener, proof for http://: the listener decides the scheme',
      req: () => ({ target: `http://localhost:${S.tlsPort}/strict/anything`, headers: dpopAuth(S.T, proof({ htu: `http://localhost:${S.tlsPort}/strict/anything` })) }),
      expect: () => invalidProof('dpop_htu_mismatch'),
    },
    { name: 'https:// on the plain listener', req: () => ({ transport: 'plain', headers: dpopAuth(S.T, proof({ htu: `https://localhost:${S.plainPort}/strict/anything` })) }), expect: () => invalidProof('dpop_htu_mismatch') },
    { name: 'a Host naming another host than the proof', req: () => ({ host: 'other.test', headers: dpopAuth(S.T, proof()) }), expect: () => invalidProof('dpop_htu_mismatch') },
    {
      name: 'an absolute-form target naming another host than the proof (GET https://other.test/…)',
      req: () => ({ target: 'https://other.test/strict/anything', headers: dpopAuth(S.T, proof()) }),
      expect: () => invalidProof('dpop_htu_mismatch'),
    },
    {
      name: 'a Host that smuggles a path (`gw.test/x`) never matches',
      req: () => ({ host: 'gw.test/x', headers: dpopAuth(S.T, proof({ htu: 'https://gw.test/x/strict/anything' })) }),
      expect: () => invalidProof('dpop_htu_mismatch'),
    },
    {
      name: 'a Host with userinfo (`user@localhost:<port>`) never matches',
      req: () => ({ host: `user@localhost:${S.tlsPort}`, headers: dpopAuth(S.T, proof()) }),
      expect: () => invalidProof('dpop_htu_mismatch'),
    },
    { name: 'htu with userinfo', req: () => strictWith(proof({ htu: `https://user:pw@localhost:${S.tlsPort}/strict/anything` })), expect: () => invalidProof('dpop_htu_mismatch') },
    { name: 'htu not a URI', req: () => strictWith(proof({ htu: '/strict/anything' })), expect: () => invalidProof('dpop_htu_mismatch') },
  ]);

  describe('§8.30 X-Forwarded-Proto/Host/Port', () => {
    const forwarded = (extra: Array<[string, string]> = []): Array<[string, string]> => [['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'gw.test'], ...extra];
    const viaProxy = (htu: string, localAddress: string, extra: Array<[string, string]> = []): Req => ({
      transport: 'plain',
      localAddress,
      headers: [...forwarded(extra), ...dpopAuth(S.T, proof({ htu }))],
    });

    it('from an untrusted peer they are ignored: a proof for the forwarded URI is refused', async () => {
      const record = await refused(await send(viaProxy('https://gw.test/strict/anything', '127.0.0.1')), invalidProof('dpop_htu_mismatch'));
      assert.equal(record.client, '127.0.0.1');
    });

    it('from an untrusted peer they are ignored: a proof for the listener URI passes', async () => {
      await passed(await send(viaProxy(url('/strict/anything', 'plain'), '127.0.0.1')), S.T);
    });

    it('from the trusted proxy they describe the client request: https://gw.test/… passes on the plain listener', async () => {
      const ex = await send(viaProxy('https://gw.test/strict/anything', trustedProxy));
      await passed(ex, S.T);
      assert.equal((await accessRecord(ex.requestId)).client, trustedProxy, 'sent from the trusted address');
    });

    it('from the trusted proxy, X-Forwarded-Port 8443: https://gw.test:8443/… passes', async () => {
      await passed(await send(viaProxy('https://gw.test:8443/strict/anything', trustedProxy, [['X-Forwarded-Port', '8443']])), S.T);
    });

    it('from the trusted proxy, X-Forwarded-Port 443 and htu HTTPS://GW.TEST:443/…: normalised, passes', async () => {
      await passed(await send(viaProxy('HTTPS://GW.TEST:443/strict/anything', trustedProxy, [['X-Forwarded-Port', '443']])), S.T);
    });

    it('from the trusted proxy, a proof for the listener URI is refused (the forwarded view wins)', async () => {
      await refused(await send(viaProxy(url('/strict/anything', 'plain'), trustedProxy)), invalidProof('dpop_htu_mismatch'));
    });

    it('from the trusted proxy, X-Forwarded-Port 8443 with a proof without the port is refused', async () => {
      await refused(await send(viaProxy('https://gw.test/strict/anything', trustedProxy, [['X-Forwarded-Port', '8443']])), invalidProof('dpop_htu_mismatch'));
    });

    it('from the trusted proxy, only the first X-Forwarded-Host entry counts', async () => {
      const req = (htu: string): Req => ({
        transport: 'plain',
        localAddress: trustedProxy,
        headers: [['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'gw.test, evil.test'], ...dpopAuth(S.T, proof({ htu }))],
      });
      await refused(await send(req('https://evil.test/strict/anything')), invalidProof('dpop_htu_mismatch'), 'second entry');
      await passed(await send(req('https://gw.test/strict/anything')), S.T, 'jwt_verified_dpop', 'first entry');
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('key confusion (§8.15–§8.22)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaPublicJwk = rsa.publicKey.export({ format: 'jwk' });
    const rsaPrivateJwk = rsa.privateKey.export({ format: 'jwk' });
    const hmacKey = randomBytes(32);
    const cases: Case[] = [
      { name: '§8.22 a proof by K2 with jwk K2 (valid signature) for T bound to K', req: () => strictWith(proof({ key: S.K2 })), expect: () => invalidProof('dpop_key_mismatch') },
      { name: '§8.22 the same with the dpop package', req: async () => strictWith(await libProof(S.K2, url('/strict/anything'), S.T)), expect: () => invalidProof('dpop_key_mismatch') },
      { name: "jwk K (the victim's public key) but signed by K2", req: () => strictWith(proof({ signer: S.K2.signer })), expect: () => invalidProof('dpop_signature_invalid') },
      {
        name: '§8.20 jwk with the private member d',
        req: () => strictWith(proof({ header: { jwk: S.K.privateKey.export({ format: 'jwk' }) } })),
        expect: () => invalidProof('dpop_jwk_invalid'),
      },
      {
        name: '§8.20 an RSA jwk with p, q, dp, dq, qi (no d)',
        req: () => {
          const { d: _d, ...rest } = rsaPrivateJwk;
          return strictWith(proof({ header: { alg: 'RS256', jwk: rest }, signer: rsaSigner(rsa.privateKey) }));
        },
        expect: () => invalidProof('dpop_jwk_invalid'),
      },
      {
        name: '§8.16 alg HS256 with a kty oct jwk, HMAC-signed with that k',
        req: () => strictWith(proof({ header: { alg: 'HS256', jwk: { kty: 'oct', k: b64url(hmacKey) } }, signer: hmacSigner(hmacKey) })),
        expect: () => invalidProof('dpop_alg_not_allowed'),
      },
      {
        name: 'alg ES256 with a kty oct jwk',
        req: () => strictWith(proof({ header: { jwk: { kty: 'oct', k: b64url(hmacKey) } }, signer: hmacSigner(hmacKey) })),
        expect: () => invalidProof('dpop_jwk_invalid'),
      },
      {
        name: '§8.15 alg none with an empty signature',
        req: () => strictWith(jwsWithSignature({ typ: 'dpop+jwt', alg: 'none', jwk: S.K.jwk }, { jti: randomUUID(), htm: 'GET', htu: url('/strict/anything'), iat: Math.floor(nowSeconds()), ath: ath(S.T) }, '')),
        expect: () => invalidProof('dpop_alg_not_allowed'),
      },
      {
        name: 'alg none with a real ES256 signature over the same input',
        req: () => {
          const input = signingInput({ typ: 'dpop+jwt', alg: 'none', jwk: S.K.jwk }, { jti: randomUUID(), htm: 'GET', htu: url('/strict/anything'), iat: Math.floor(nowSeconds()), ath: ath(S.T) });
          return strictWith(`${input}.${S.K.signer.sign(Buffer.from(input)).toString('base64url')}`);
        },
        expect: () => invalidProof('dpop_alg_not_allowed'),
      },
      { name: 'alg `es256` (wrong case)', req: () => strictWith(proof({ header: { alg: 'es256' } })), expect: () => invalidProof('dpop_alg_not_allowed') },
      { name: '§8.18 alg removed from the header', req: () => strictWith(proof({ header: { alg: undefined } })), expect: () => invalidProof('dpop_alg_not_allowed') },
      {
        name: '§8.17 RS256 on the route allowing PS256 ES256 EdDSA (algs lists that set)',
        req: () => ({ target: '/fapi/anything', headers: dpopAuth(S.T, proof({ htu: url('/fapi/anything'), header: { alg: 'RS256', jwk: rsaPublicJwk }, signer: rsaSigner(rsa.privateKey) })) }),
        expect: () => invalidProof('dpop_alg_not_allowed', FAPI_ALGS),
      },
      {
        name: '§8.17 ES384 on that route',
        req: () => ({ target: '/fapi/anything', headers: dpopAuth(S.T, proof({ htu: url('/fapi/anything'), header: { alg: 'ES384' } })) }),
        expect: () => invalidProof('dpop_alg_not_allowed', FAPI_ALGS),
      },
      { name: '§8.19 jwk missing', req: () => strictWith(proof({ header: { jwk: undefined } })), expect: () => invalidProof('dpop_jwk_invalid') },
      { name: 'jwk a string (the thumbprint)', req: () => strictWith(proof({ header: { jwk: S.K.jkt } })), expect: () => invalidProof('dpop_jwk_invalid') },
      { name: 'jwk an empty object', req: () => strictWith(proof({ header: { jwk: {} } })), expect: () => invalidProof('dpop_jwk_invalid') },
      { name: "an EC jwk under alg RS256 (K's ES256 signature)", req: () => strictWith(proof({ header: { alg: 'RS256' } })), expect: () => invalidProof('dpop_jwk_invalid') },
      {
        name: 'an RSA jwk under alg ES256 (RS256 signature)',
        req: () => strictWith(proof({ header: { jwk: rsaPublicJwk }, signer: rsaSigner(rsa.privateKey) })),
        expect: () => invalidProof('dpop_jwk_invalid'),
      },
      {
        name: 'a P-256 jwk under alg ES384',
        req: () => strictWith(proof({ header: { alg: 'ES384' } })),
        expect: () => invalidProof('dpop_jwk_invalid'),
      },
      {
        name: 'a P-256 jwk under alg ES512',
        req: () => strictWith(proof({ header: { alg: 'ES512' } })),
        expect: () => invalidProof('dpop_jwk_invalid'),
      },
      { name: 'an EC jwk under alg PS256', req: () => strictWith(proof({ header: { alg: 'PS256' } })), expect: () => invalidProof('dpop_jwk_invalid') },
      { name: 'an EC jwk under alg EdDSA', req: () => strictWith(proof({ header: { alg: 'EdDSA' } })), expect: () => invalidProof('dpop_jwk_invalid') },
      {
        name: '§8.21 one signature byte flipped',
        req: () => {
          const [h, p, sig = ''] = proof().split('.');
          const bytes = Buffer.from(sig, 'base64url');
          bytes[10] = (bytes[10] ?? 0) ^ 0x01;
          return strictWith(`${h}.${p}.${bytes.toString('base64url')}`);
        },
        expect: () => invalidProof('dpop_signature_invalid'),
      },
      { name: 'the signature removed (empty third segment)', req: () => strictWith(`${proof().split('.').slice(0, 2).join('.')}.`), expect: () => invalidProof('dpop_signature_invalid') },
      { name: '64 zero bytes as signature (r = s = 0)', req: () => strictWith(`${proof().split('.').slice(0, 2).join('.')}.${b64url(Buffer.alloc(64))}`), expect: () => invalidProof('dpop_signature_invalid') },
      {
        name: "the signature of another of K's proofs",
        req: () => strictWith(`${proof().split('.').slice(0, 2).join('.')}.${proof().split('.')[2] ?? ''}`),
        expect: () => invalidProof('dpop_signature_invalid'),
      },
    ];
    for (const c of cases) {
      it(c.name, c.todo === undefined ? {} : { todo: c.todo }, async () => {
        await refused(await send(await c.req()), c.expect(), c.name);
      });
    }

    it('control: ES256 by K passes on the restricted route', async () => {
      await passed(await send({ target: '/fapi/anything', headers: dpopAuth(S.T, proof({ htu: url('/fapi/anything') })) }), S.T);
    });
  });

  // -------------------------------------------------------------------------------------------

  refusals('malformed proofs (§8.11–§8.13, §8.23–§8.24, §8.34–§8.35)', [
    { name: '§8.11 two segments', req: () => strictWith(proof().split('.').slice(0, 2).join('.')), expect: () => invalidProof('dpop_proof_malformed') },
    { name: '§8.11 four segments', req: () => strictWith(`${proof()}.x`), expect: () => invalidProof('dpop_proof_malformed') },
    { name: '§8.11 standard base64 characters (+ /)', req: () => strictWith(`${proof().split('.').slice(0, 2).join('.')}.${Buffer.alloc(64, 0xfb).toString('base64')}`), expect: () => invalidProof('dpop_proof_malformed') },
    { name: 'a space inside the value', req: () => strictWith(proof().replace('.', '. ')), expect: () => invalidProof('dpop_proof_malformed') },
    { name: '§8.11 header not JSON', req: () => strictWith(jwsWithSignature('{"typ":"dpop+jwt",', { htm: 'GET' }, b64url('x'))), expect: () => invalidProof('dpop_proof_malformed') },
    { name: 'header a JSON array', req: () => strictWith(jwsWithSignature('["dpop+jwt"]', { htm: 'GET' }, b64url('x'))), expect: () => invalidProof('dpop_proof_malformed') },
    { name: '§8.11 payload JSON null (signed by K)', req: () => strictWith(signJws({ typ: 'dpop+jwt', alg: 'ES256', jwk: S.K.jwk }, 'null', S.K.signer)), expect: () => invalidProof('dpop_proof_malformed') },
    { name: 'payload not JSON (signed by K)', req: () => strictWith(signJws({ typ: 'dpop+jwt', alg: 'ES256', jwk: S.K.jwk }, '{"htm":', S.K.signer)), expect: () => invalidProof('dpop_proof_malformed') },
    // Its typ (at+jwt) is wrong too, but the jwk check comes first; `typ at+jwt` alone is below.
    { name: 'the access token itself as the proof (no jwk)', req: () => strictWith(S.T), expect: () => invalidProof('dpop_jwk_invalid') },
    { name: '§8.12 typ missing', req: () => strictWith(proof({ header: { typ: undefined } })), expect: () => invalidProof('dpop_typ_invalid') },
    { name: '§8.13 typ JWT', req: () => strictWith(proof({ header: { typ: 'JWT' } })), expect: () => invalidProof('dpop_typ_invalid') },
    { name: '§8.13 typ dpop+jwt+wrongyousee', req: () => strictWith(proof({ header: { typ: 'dpop+jwt+wrongyousee' } })), expect: () => invalidProof('dpop_typ_invalid') },
    { name: 'typ at+jwt', req: () => strictWith(proof({ header: { typ: 'at+jwt' } })), expect: () => invalidProof('dpop_typ_invalid') },
    { name: '§8.35 jti missing', req: () => strictWith(proof({ claims: { jti: undefined } })), expect: () => invalidProof('dpop_claim_invalid') },
    { name: '§8.35 jti a number', req: () => strictWith(proof({ claims: { jti: 12345 } })), expect: () => invalidProof('dpop_claim_invalid') },
    { name: 'jti empty', req: () => strictWith(proof({ claims: { jti: '' } })), expect: () => invalidProof('dpop_jti_invalid') },
    { name: 'htm missing', req: () => strictWith(proof({ claims: { htm: undefined } })), expect: () => invalidProof('dpop_claim_invalid') },
    { name: 'htu missing', req: () => strictWith(proof({ claims: { htu: undefined } })), expect: () => invalidProof('dpop_claim_invalid') },
    { name: 'htu a number', req: () => strictWith(proof({ claims: { htu: 443 } })), expect: () => invalidProof('dpop_claim_invalid') },
    { name: '§8.34 iat missing', req: () => strictWith(proof({ claims: { iat: undefined } })), expect: () => invalidProof('dpop_claim_invalid') },
    { name: '§8.34 iat a numeric string', req: () => strictWith(proof({ claims: { iat: String(Math.floor(nowSeconds())) } })), expect: () => invalidProof('dpop_claim_invalid') },
    { name: '§8.34 iat null', req: () => strictWith(proof({ claims: { iat: null } })), expect: () => invalidProof('dpop_claim_invalid') },
    { name: '§8.34 iat 1e400 (Infinity in JSON)', req: () => strictWith(signJws({ typ: 'dpop+jwt', alg: 'ES256', jwk: S.K.jwk }, `{"jti":"${randomUUID()}","htm":"GET","htu":"${url('/strict/anything')}","iat":1e400,"ath":"${ath(S.T)}"}`, S.K.signer)), expect: () => invalidProof('dpop_claim_invalid') },
    { name: '§8.23 htm PUT on a GET', req: () => strictWith(proof({ htm: 'PUT' })), expect: () => invalidProof('dpop_htm_mismatch') },
    { name: '§8.24 htm `get` on a GET (methods are case-sensitive)', req: () => strictWith(proof({ htm: 'get' })), expect: () => invalidProof('dpop_htm_mismatch') },
    { name: 'htm GET on a POST', req: () => ({ method: 'POST', headers: [...dpopAuth(S.T, proof()), ['Content-Type', 'application/json']], body: '{}' }), expect: () => invalidProof('dpop_htm_mismatch') },
  ]);

  // -------------------------------------------------------------------------------------------

  describe('oversized (§8.37)', () => {
    it('§8.37 a jti of 257 characters', async () => {
      await refused(await send(strictWith(proof({ claims: { jti: 'j'.repeat(257) } }))), invalidProof('dpop_jti_invalid'));
    });

    it('§8.37 a jti of 300 characters', async () => {
      await refused(await send(strictWith(proof({ claims: { jti: 'j'.repeat(300) } }))), invalidProof('dpop_jti_invalid'));
    });

    it('§8.37 a valid proof of 8193 characters: 401 dpop_proof_too_large, not read', async () => {
      const value = proofOfLength(8193);
      assert.equal(value.length, 8193);
      await refused(await send(strictWith(value)), invalidProof('dpop_proof_too_large'));
    });

    it('a 20 KiB DPoP value (under --max-header-size): 401 dpop_proof_too_large, not 500', async () => {
      await refused(await send(strictWith('a'.repeat(20 * 1024))), invalidProof('dpop_proof_too_large'));
    });

    it(`§8.37 a header block over --max-header-size (${MAX_HEADER_SIZE}): Node's 431, nothing upstream`, async () => {
      const ex = await send(strictWith('a'.repeat(MAX_HEADER_SIZE + 1024)));
      assert.equal(ex.status, 431);
      assert.match(ex.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/, 'a fresh request id from the listener');
      await refused(ex, { status: 431, reason: 'request_header_fields_too_large', challenge: null, byPlugin: false, body: undefined });
      assert.equal(ex.body, '');
    });
  });

  // -------------------------------------------------------------------------------------------

  describe(`iat window (§8.32–§8.33): dpop_proof_lifetime ${LIFETIME}, clock skew 5`, () => {
    // Integer iats the way clients send them, rounded so that the edge holds whatever the
    // sub-second offset and a transit under a second.
    it('§8.32 iat now+4: 200', async () => {
      await passed(await send(strictWith(proof({ claims: { iat: Math.floor(nowSeconds()) + 4 } }))), S.T);
    });

    it('§8.33 iat now-299: 200', async () => {
      await passed(await send(strictWith(proof({ claims: { iat: Math.ceil(nowSeconds()) - 299 } }))), S.T);
    });

    const cases: Case[] = [
      { name: '§8.32 iat now+6', req: () => strictWith(proof({ claims: { iat: Math.ceil(nowSeconds()) + 6 } })), expect: () => invalidProof('dpop_iat_future') },
      { name: '§8.32 iat now+3600', req: () => strictWith(proof({ claims: { iat: Math.floor(nowSeconds()) + 3600 } })), expect: () => invalidProof('dpop_iat_future') },
      { name: '§8.33 iat now-301', req: () => strictWith(proof({ claims: { iat: Math.floor(nowSeconds()) - 301 } })), expect: () => invalidProof('dpop_proof_expired') },
      { name: '§8.33 iat now-3600', req: () => strictWith(proof({ claims: { iat: Math.floor(nowSeconds()) - 3600 } })), expect: () => invalidProof('dpop_proof_expired') },
      { name: 'iat 0', req: () => strictWith(proof({ claims: { iat: 0 } })), expect: () => invalidProof('dpop_proof_expired') },
      { name: 'iat negative', req: () => strictWith(proof({ claims: { iat: -1 } })), expect: () => invalidProof('dpop_proof_expired') },
    ];
    for (const c of cases) {
      it(c.name, c.todo === undefined ? {} : { todo: c.todo }, async () => {
        await refused(await send(await c.req()), c.expect(), c.name);
      });
    }
  });

  // -------------------------------------------------------------------------------------------

  refusals('ath (§8.38)', [
    { name: '§8.38 ath missing', req: () => strictWith(proof({ claims: { ath: undefined } })), expect: () => invalidProof('dpop_claim_invalid') },
    { name: '§8.38 ath of another token (T2)', req: () => strictWith(proof({ token: S.T2 })), expect: () => invalidProof('dpop_ath_mismatch') },
    { name: '§8.38 ath padded with =', req: () => strictWith(proof({ claims: { ath: `${ath(S.T)}=` } })), expect: () => invalidProof('dpop_ath_mismatch') },
    { name: '§8.38 ath in standard base64 with padding', req: () => strictWith(proof({ claims: { ath: createHash('sha256').update(S.T).digest('base64') } })), expect: () => invalidProof('dpop_ath_mismatch') },
    { name: '§8.38 ath over "DPoP T"', req: () => strictWith(proof({ claims: { ath: ath(`DPoP ${S.T}`) } })), expect: () => invalidProof('dpop_ath_mismatch') },
    { name: 'ath as hex', req: () => strictWith(proof({ claims: { ath: createHash('sha256').update(S.T).digest('hex') } })), expect: () => invalidProof('dpop_ath_mismatch') },
    { name: 'ath over the token with SHA-512', req: () => strictWith(proof({ claims: { ath: createHash('sha512').update(S.T).digest('base64url') } })), expect: () => invalidProof('dpop_ath_mismatch') },
    { name: 'ath a number', req: () => strictWith(proof({ claims: { ath: 1 } })), expect: () => invalidProof('dpop_claim_invalid') },
    {
      name: "T2's own proof (K2, ath of T2) sent with T",
      req: () => strictWith(proof({ key: S.K2, token: S.T2 })),
      expect: () => invalidProof('dpop_ath_mismatch'),
    },
  ]);

  // -------------------------------------------------------------------------------------------

  refusals('the token side, with a valid proof (strict)', [
    {
      name: 'an expired token bound to K: invalid_token on the DPoP challenge',
      req: () => {
        const t = forge({ iat: Math.floor(nowSeconds()) - 120, exp: Math.floor(nowSeconds()) - 60 });
        return { headers: dpopAuth(t, proof({ token: t })) };
      },
      expect: () => ({ status: 401, reason: 'token_expired', challenge: dpopChallenge('invalid_token') }),
    },
    {
      name: 'a token whose signature does not verify, with a proof for it',
      req: () => {
        const [h, p] = S.T.split('.');
        const t = `${h}.${p}.${b64url(Buffer.alloc(256))}`;
        return { headers: dpopAuth(t, proof({ token: t })) };
      },
      expect: () => ({ status: 401, reason: 'signature_invalid', challenge: dpopChallenge('invalid_token') }),
    },
    {
      name: 'cnf.jkt not a thumbprint (padded with =)',
      req: () => {
        const t = forge({ cnf: { jkt: `${S.K.jkt}=` } });
        return { headers: dpopAuth(t, proof({ token: t })) };
      },
      expect: () => invalidProof('dpop_binding_invalid'),
    },
    {
      name: 'cnf a string',
      req: () => {
        const t = forge({ cnf: S.K.jkt });
        return { headers: dpopAuth(t, proof({ token: t })) };
      },
      expect: () => invalidProof('dpop_binding_invalid'),
    },
    {
      name: "cnf.jkt K2's thumbprint, proof by K",
      req: () => {
        const t = forge({ cnf: { jkt: S.K2.jkt } });
        return { headers: dpopAuth(t, proof({ token: t })) };
      },
      expect: () => invalidProof('dpop_key_mismatch'),
    },
    {
      name: '§8.39 cnf removed from a forged token',
      req: () => {
        const t = forge({ cnf: undefined });
        return { headers: dpopAuth(t, proof({ token: t })) };
      },
      expect: () => invalidProof('dpop_binding_missing'),
    },
  ]);

  // -------------------------------------------------------------------------------------------

  describe('§8.40 optional mode', () => {
    const optionalUrl = (): string => url('/optional/anything');
    const both = (bearerError?: string, dpopError?: string): string => `${bearerChallenge(bearerError)}, ${dpopChallenge(dpopError)}`;

    it('no credentials: both challenges, neither with an error (§8.4)', async () => {
      await refused(await send({ target: '/optional/anything' }), { status: 401, reason: 'no_token', challenge: both() });
    });

    it('an unbound token as Bearer: 200', async () => {
      await passed(await send({ target: '/optional/anything', headers: [['Authorization', `Bearer ${S.unbound}`]] }), S.unbound, 'jwt_verified');
    });

    it('an unbound token as DPoP with a proof: 200 (not checked, as documented)', async () => {
      await passed(await send({ target: '/optional/anything', headers: dpopAuth(S.unbound, proof({ htu: optionalUrl(), token: S.unbound })) }), S.unbound, 'jwt_verified');
    });

    it('the bound token as DPoP with its proof: 200', async () => {
      await passed(await send({ target: '/optional/anything', headers: dpopAuth(S.T, await libProof(S.K, optionalUrl(), S.T)) }), S.T);
    });

    it('the bound token as Bearer: 401 dpop_token_downgraded, invalid_token on the Bearer challenge', async () => {
      await refused(await send({ target: '/optional/anything', headers: [['Authorization', `Bearer ${S.T}`]] }), { status: 401, reason: 'dpop_token_downgraded', challenge: both('invalid_token') });
    });

    it('the bound token as Bearer with a valid proof: the same', async () => {
      await refused(await send({ target: '/optional/anything', headers: [['Authorization', `Bearer ${S.T}`], ['DPoP', proof({ htu: optionalUrl() })]] }), {
        status: 401,
        reason: 'dpop_token_downgraded',
        challenge: both('invalid_token'),
      });
    });

    it('the bound token as DPoP without a proof: invalid_dpop_proof on the DPoP challenge', async () => {
      await refused(await send({ target: '/optional/anything', headers: [['Authorization', `DPoP ${S.T}`]] }), { status: 401, reason: 'dpop_proof_missing', challenge: both(undefined, 'invalid_dpop_proof') });
    });

    it("the bound token as DPoP with K2's proof: dpop_key_mismatch on the DPoP challenge", async () => {
      await refused(await send({ target: '/optional/anything', headers: dpopAuth(S.T, proof({ key: S.K2, htu: optionalUrl() })) }), {
        status: 401,
        reason: 'dpop_key_mismatch',
        challenge: both(undefined, 'invalid_dpop_proof'),
      });
    });

    it('replay: 200, then dpop_proof_replayed', async () => {
      const p = proof({ htu: optionalUrl() });
      await passed(await send({ target: '/optional/anything', headers: dpopAuth(S.T, p) }), S.T);
      await refused(await send({ target: '/optional/anything', headers: dpopAuth(S.T, p) }), { status: 401, reason: 'dpop_proof_replayed', challenge: both(undefined, 'invalid_dpop_proof') });
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('§8.43–§8.45 dpop_use_nonce', () => {
    const nonceUrl = (): string => url('/nonce/anything');
    const withNonce = (proofValue: string): Req => ({ target: '/nonce/anything', headers: dpopAuth(S.T, proofValue) });

    it('§8.43 a proof without nonce: 401 use_dpop_nonce + DPoP-Nonce; the retry with it passes, without a new nonce', async () => {
      const first = await send(withNonce(await libProof(S.K, nonceUrl(), S.T)));
      await refused(first, nonceRefusal('dpop_nonce_missing'));
      const ok = await send(withNonce(await libProof(S.K, nonceUrl(), S.T, first.headers['dpop-nonce'])));
      await passed(ok, S.T);
      assert.equal(ok.headers['dpop-nonce'], undefined, 'a fresh nonce is not renewed');
    });

    it('§8.44 a forged nonce (30 random base64url characters)', async () => {
      await refused(await send(withNonce(proof({ htu: nonceUrl(), claims: { nonce: randomBytes(22).toString('base64url') } }))), nonceRefusal('dpop_nonce_invalid'));
    });

    it('§8.44 a nonce minted under another gateway key', async () => {
      const other = new NonceMinter(randomBytes(32));
      await refused(await send(withNonce(proof({ htu: nonceUrl(), claims: { nonce: other.issue(nowSeconds()) } }))), nonceRefusal('dpop_nonce_invalid'));
    });

    it('a nonce of the gateway from 60 s in the future', async () => {
      await refused(await send(withNonce(proof({ htu: nonceUrl(), claims: { nonce: S.minter.issue(nowSeconds() + 60) } }))), nonceRefusal('dpop_nonce_invalid'));
    });

    it(`§8.44 a nonce of the gateway older than the lifetime (${LIFETIME + 1} s)`, async () => {
      await refused(await send(withNonce(proof({ htu: nonceUrl(), claims: { nonce: S.minter.issue(nowSeconds() - LIFETIME - 1) } }))), nonceRefusal('dpop_nonce_expired'));
    });

    it('a nonce of the gateway with a character changed', async () => {
      const nonce = S.minter.issue(nowSeconds());
      const changed = `${nonce.slice(0, 10)}${nonce[10] === 'A' ? 'B' : 'A'}${nonce.slice(11)}`;
      await refused(await send(withNonce(proof({ htu: nonceUrl(), claims: { nonce: changed } }))), nonceRefusal('dpop_nonce_invalid'));
    });

    it('a nonce that is not a string', async () => {
      await refused(await send(withNonce(proof({ htu: nonceUrl(), claims: { nonce: 12345 } }))), nonceRefusal('dpop_claim_invalid', 'invalid_dpop_proof'));
    });

    it("a valid nonce with K2's proof: invalid_dpop_proof, and still a fresh nonce", async () => {
      await refused(await send(withNonce(proof({ key: S.K2, htu: nonceUrl(), claims: { nonce: S.minter.issue(nowSeconds()) } }))), nonceRefusal('dpop_key_mismatch', 'invalid_dpop_proof'));
    });

    it('§8.45 a nonce with less than 60 s left: 200 with a new DPoP-Nonce and Cache-Control: no-store', async () => {
      const ok = await send(withNonce(proof({ htu: nonceUrl(), claims: { nonce: S.minter.issue(nowSeconds() - LIFETIME + 50) } })));
      await passed(ok, S.T);
      const renewed = ok.headers['dpop-nonce'] ?? '';
      const check = S.minter.check(renewed, nowSeconds(), LIFETIME, 5);
      assert.ok(check.ok && Math.abs(check.issuedAt - nowSeconds()) < 3, `a fresh nonce: ${renewed}`);
      assert.equal(ok.headers['cache-control'], 'no-store');
    });

    it("§11.1 with a nonce the client's clock does not matter: iat an hour old passes", async () => {
      await passed(await send(withNonce(proof({ htu: nonceUrl(), claims: { nonce: S.minter.issue(nowSeconds()), iat: Math.floor(nowSeconds()) - 3600 } }))), S.T);
    });

    it('replay with a nonce: the same proof twice, 200 then dpop_proof_replayed', async () => {
      const p = proof({ htu: nonceUrl(), claims: { nonce: S.minter.issue(nowSeconds()) } });
      await passed(await send(withNonce(p)), S.T);
      await refused(await send(withNonce(p)), nonceRefusal('dpop_proof_replayed', 'invalid_dpop_proof'));
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('§8.41 introspection (opaque DPoP-bound token)', () => {
    const opaqueUrl = (): string => url('/opaque/anything');

    it('the opaque token with a proof by K (ath over the opaque string): 200', async () => {
      await passed(await send({ target: '/opaque/anything', headers: dpopAuth(S.opaqueT, await libProof(S.K, opaqueUrl(), S.opaqueT)) }), S.opaqueT, 'introspection_active_dpop');
    });

    it('a proof by K2', async () => {
      await refused(await send({ target: '/opaque/anything', headers: dpopAuth(S.opaqueT, proof({ key: S.K2, htu: opaqueUrl(), token: S.opaqueT })) }), invalidProof('dpop_key_mismatch'));
    });

    it('the opaque token as Bearer', async () => {
      await refused(await send({ target: '/opaque/anything', headers: [['Authorization', `Bearer ${S.opaqueT}`], ['DPoP', proof({ htu: opaqueUrl(), token: S.opaqueT })]] }), invalidProof('dpop_token_downgraded'));
    });

    it('ath over a JWT instead of the opaque string', async () => {
      await refused(await send({ target: '/opaque/anything', headers: dpopAuth(S.opaqueT, proof({ htu: opaqueUrl() })) }), invalidProof('dpop_ath_mismatch'));
    });

    it('an opaque token without cnf.jkt (certificate-bound), with a proof', async () => {
      await refused(
        await send({ target: '/opaque/anything', headers: dpopAuth(S.opaqueCertBound, proof({ htu: opaqueUrl(), token: S.opaqueCertBound })) }),
        invalidProof('dpop_binding_missing'),
      );
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('§8.42 both bindings (mTLS strict + DPoP strict): either failing refuses', () => {
    const bothUrl = (): string => url('/both/anything');
    const doubleBound = (): string => forge({ cnf: { 'x5t#S256': S.idp.pki.client.thumbprint, jkt: S.K.jkt } });
    const req = (token: string, proofValue: string, credential?: KeyAndCert): Req => ({ target: '/both/anything', credential, headers: dpopAuth(token, proofValue) });

    it('the certificate and the proof key: 200', async () => {
      const t = doubleBound();
      await passed(await send(req(t, proof({ htu: bothUrl(), token: t }), S.idp.pki.client)), t);
    });

    it('no client certificate', async () => {
      const t = doubleBound();
      await refused(await send(req(t, proof({ htu: bothUrl(), token: t }))), { status: 401, reason: 'pop_certificate_missing', challenge: dpopChallenge('invalid_token') });
    });

    it('another client certificate', async () => {
      const t = doubleBound();
      await refused(await send(req(t, proof({ htu: bothUrl(), token: t }), S.idp.pki.otherClient)), { status: 401, reason: 'pop_certificate_mismatch', challenge: dpopChallenge('invalid_token') });
    });

    it("the right certificate, K2's proof", async () => {
      const t = doubleBound();
      await refused(await send(req(t, proof({ key: S.K2, htu: bothUrl(), token: t }), S.idp.pki.client)), invalidProof('dpop_key_mismatch'));
    });

    it('the right certificate, no proof', async () => {
      const t = doubleBound();
      await refused(await send({ target: '/both/anything', credential: S.idp.pki.client, headers: [['Authorization', `DPoP ${t}`]] }), invalidProof('dpop_proof_missing'));
    });

    it('a token bound to the certificate only, with the certificate and a proof', async () => {
      const t = forge({ cnf: { 'x5t#S256': S.idp.pki.client.thumbprint } });
      await refused(await send(req(t, proof({ htu: bothUrl(), token: t }), S.idp.pki.client)), invalidProof('dpop_binding_missing'));
    });
  });

  // -------------------------------------------------------------------------------------------

  describe('§8.48 CORS: WWW-Authenticate and DPoP-Nonce exposed to browsers', () => {
    it('on a refusal', async () => {
      const ex = await send({ headers: [['Origin', 'https://app.example'], ['Authorization', `DPoP ${S.T}`]] });
      await refused(ex, invalidProof('dpop_proof_missing'));
      assert.equal(ex.headers['access-control-expose-headers'], 'WWW-Authenticate, DPoP-Nonce');
    });

    it('on a success', async () => {
      const ex = await send({ headers: [['Origin', 'https://app.example'], ...dpopAuth(S.T, proof())] });
      await passed(ex, S.T);
      const exposed = (ex.headers['access-control-expose-headers'] ?? '').split(',').map((h) => h.trim().toLowerCase());
      for (const h of ['www-authenticate', 'dpop-nonce']) assert.ok(exposed.includes(h), `${h} in ${ex.headers['access-control-expose-headers']}`);
    });
  });
});
