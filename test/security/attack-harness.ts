// The attack corpus's shared machinery. One suite per test file: the development IdP (oidc-provider,
// real HTTPS, real signing keys), an echo upstream behind a counting HTTP server, and a real gateway
// process (`portcullis start --workers 1`) whose routes all run tls-handshake-modifier +
// openid-connect (strict RFC 8705 binding, bearer only) in front of that upstream. Requests are
// written byte for byte on real TCP/TLS connections (duplicate headers, chosen client certificate,
// chosen TLS session, chosen source address), and every refusal is checked four ways: status,
// RFC 6750 challenge, nothing upstream, reason code in the gateway's JSON access log.
import assert from 'node:assert/strict';
import { createHash, createHmac, createPrivateKey, generateKeyPairSync, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { issueCertificate, type IssuedCertificate, type KeyAndCert } from '../../src/certs/index.js';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import type { AccessRecord } from '../../src/server/access-log.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startTestIdp, testIdpClientIds, type TestIdp } from '../helpers/idp.js';
import { tutorialClientSubject, type TestPki } from '../helpers/pki.js';

// ---------------------------------------------------------------------------------------------
// JWS building: every byte under the test's control (duplicate members, odd casings, bad segments).

export const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** Something that signs a JWS signing input. */
export interface Signer {
  readonly alg: string;
  sign(input: Buffer): Buffer;
}

export const rsaSigner = (key: KeyObject, alg = 'RS256'): Signer => ({ alg, sign: (input) => sign('sha256', input, key) });
export const ecSigner = (key: KeyObject): Signer => ({ alg: 'ES256', sign: (input) => sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }) });
export const hmacSigner = (secret: string | Buffer): Signer => ({ alg: 'HS256', sign: (input) => createHmac('sha256', secret).update(input).digest() });

/** A JSON object, or raw JSON text (for duplicate member names, which JSON.stringify cannot produce). */
export type JsonPart = Record<string, unknown> | string;
const jsonText = (part: JsonPart): string => (typeof part === 'string' ? part : JSON.stringify(part));

/** `b64url(header).b64url(payload)` */
export const signingInput = (header: JsonPart, payload: JsonPart): string => `${b64url(jsonText(header))}.${b64url(jsonText(payload))}`;

/** A compact JWS signed with `signer` (the header is taken as given: set `alg` yourself). */
export function signJws(header: JsonPart, payload: JsonPart, signer: Signer): string {
  const input = signingInput(header, payload);
  return `${input}.${signer.sign(Buffer.from(input)).toString('base64url')}`;
}

/** A compact JWS with the given third segment (empty, zeros, …). */
export const jwsWithSignature = (header: JsonPart, payload: JsonPart, signature: string): string => `${signingInput(header, payload)}.${signature}`;

// ---------------------------------------------------------------------------------------------
// The IdP's real signing keys, read where src/idp keeps them: DIR/signing-keys.json.

export interface IdpSigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: KeyObject;
  /** The public JWK as the IdP publishes it. */
  readonly publicJwk: JsonWebKey;
  readonly signer: Signer;
}

interface StoredKeyFile {
  keys: Array<{ jwk: JsonWebKey & { kid: string; alg: string }; retired_at: string | null }>;
}

export async function loadIdpSigningKeys(dir: string): Promise<{ rsa: IdpSigningKey; ec: IdpSigningKey }> {
  const stored = JSON.parse(await readFile(`${dir}/signing-keys.json`, 'utf8')) as StoredKeyFile;
  const active = (alg: 'RS256' | 'ES256'): IdpSigningKey => {
    const entry = stored.keys.find((k) => k.jwk.alg === alg && k.retired_at === null);
    if (entry === undefined) throw new Error(`the IdP has no active ${alg} key in ${dir}`);
    const privateKey = createPrivateKey({ key: entry.jwk, format: 'jwk' });
    const { kty, n, e, crv, x, y } = entry.jwk;
    const publicJwk = Object.fromEntries(Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined)) as JsonWebKey;
    return { kid: entry.jwk.kid, alg, privateKey, publicJwk, signer: alg === 'RS256' ? rsaSigner(privateKey) : ecSigner(privateKey) };
  };
  return { rsa: active('RS256'), ec: active('ES256') };
}

/** An attacker's own key pairs (never known to the IdP). */
export function attackerKeys(): { rsa: { privateKey: KeyObject; publicJwk: JsonWebKey }; ec: { privateKey: KeyObject; publicJwk: JsonWebKey } } {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    rsa: { privateKey: rsa.privateKey, publicJwk: rsa.publicKey.export({ format: 'jwk' }) },
    ec: { privateKey: ec.privateKey, publicJwk: ec.publicKey.export({ format: 'jwk' }) },
  };
}

// ---------------------------------------------------------------------------------------------
// Servers the test owns: the counting upstream, and an "attacker" URL that must never be fetched.

export interface UpstreamRequest {
  readonly requestId: string | undefined;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

/** The echo upstream behind a counting pass-through: every request the gateway sends is recorded. */
export interface CountingUpstream {
  readonly url: string;
  readonly requests: readonly UpstreamRequest[];
  /** Requests received so far. */
  total(): number;
  /** Requests that carried this X-Request-Id (the gateway forwards its request id upstream). */
  hitsFor(requestId: string): number;
  close(): Promise<void>;
}

export async function startCountingUpstream(echo: EchoServer): Promise<CountingUpstream> {
  const requests: UpstreamRequest[] = [];
  // Node's default 16 KiB head limit would answer 431 to the longest tokens the gateway accepts.
  const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    const id = req.headers['x-request-id'];
    requests.push({ requestId: typeof id === 'string' ? id : undefined, method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    // The echo server keeps Node's default limit: a header beyond 8 KiB reaches it as its SHA-256
    // (what the gateway sent is recorded above, unabridged).
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, typeof v === 'string' && v.length > 8192 ? `sha256:${createHash('sha256').update(v).digest('hex')}` : v]),
    );
    const forward = httpRequest(`${echo.url}${req.url ?? '/'}`, { method: req.method, headers }, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  const url = await listenLocal(server);
  return {
    url,
    requests,
    total: () => requests.length,
    hitsFor: (requestId) => requests.filter((r) => r.requestId === requestId).length,
    close: () => closeServer(server),
  };
}

/** A server an attacker controls (jku/x5u targets): answers `body` for any path and counts every request. */
export interface AttackerServer {
  readonly url: string;
  hits(): number;
  close(): Promise<void>;
}

export async function startAttackerServer(body: string): Promise<AttackerServer> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  // A TCP connection that never sends a request counts too: the gateway must not even connect.
  server.on('connection', () => hits++);
  const url = await listenLocal(server);
  return { url, hits: () => hits, close: () => closeServer(server) };
}

async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 by hand, on a TLS or plain connection the test shaped.

export interface ConnectOptions {
  /** TLS (the default) or plain HTTP. */
  readonly transport?: 'tls' | 'plain';
  /** Client certificate presented in the handshake; none when absent. */
  readonly credential?: KeyAndCert | null;
  /** Source address: 127.0.0.2 is the gateway's trusted proxy (--trusted-ips), 127.0.0.1 is not. */
  readonly localAddress?: string;
  /** A TLS session to resume. */
  readonly session?: Buffer;
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface RequestOptions {
  /** Path and query, e.g. `/strict/anything?x=1`. */
  readonly path: string;
  readonly method?: string;
  /** Sent as `Authorization: Bearer <token>`; null/absent: no Authorization header. */
  readonly token?: string | null;
  /** More header lines, in order; a name may repeat. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** X-Request-Id sent (and so the id of the access-log line); default a fresh one. */
  readonly requestId?: string;
  /** Ask the server to close after the response (default true). */
  readonly close?: boolean;
}

export interface Exchange {
  readonly requestId: string;
  /** 0 when no response came back. */
  readonly status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Upstream requests counted before this one was sent. */
  readonly upstreamBefore: number;
}

/** One client connection. */
export class Connection {
  readonly socket: Socket | TLSSocket;
  /** Whether the TLS handshake resumed a session. */
  readonly reused: boolean;
  readonly #sessions: Buffer[];
  #buffer = Buffer.alloc(0);
  #closed = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  readonly #upstream: CountingUpstream;

  private constructor(socket: Socket | TLSSocket, reused: boolean, sessions: Buffer[], upstream: CountingUpstream) {
    this.socket = socket;
    this.reused = reused;
    this.#sessions = sessions;
    this.#upstream = upstream;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#notify();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#notify();
    });
    socket.on('error', (error: Error) => {
      this.#error = error;
      this.#notify();
    });
  }

  static async open(port: number, upstream: CountingUpstream, options: ConnectOptions = {}): Promise<Connection> {
    const sessions: Buffer[] = [];
    // The TCP connection first, so that its source address can be chosen; TLS on top of it.
    const tcp = netConnect({ host: '127.0.0.1', port, localAddress: options.localAddress });
    await new Promise<void>((resolve, reject) => tcp.once('connect', resolve).once('error', reject));
    if (options.transport === 'plain') return new Connection(tcp, false, sessions, upstream);
    const socket = tlsConnect({
      socket: tcp,
      rejectUnauthorized: false,
      cert: options.credential?.certPem,
      key: options.credential?.keyPem,
      session: options.session,
      maxVersion: options.maxVersion,
    });
    socket.on('session', (session: Buffer) => sessions.push(session));
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    return new Connection(socket, socket.isSessionReused(), sessions, upstream);
  }

  /** The latest session the server offered on this connection (TLS 1.3 tickets come after the handshake). */
  get session(): Buffer | undefined {
    return this.#sessions.at(-1);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get error(): Error | null {
    return this.#error;
  }

  /** Sends one request and reads one response (Content-Length or chunked framing, or up to the close). */
  async request(options: RequestOptions, timeoutMs = 10_000): Promise<Exchange> {
    const requestId = options.requestId ?? `atk-${randomUUID()}`;
    const lines: Array<readonly [string, string]> = [['Host', 'localhost'], ['X-Request-Id', requestId]];
    if (options.token !== undefined && options.token !== null) lines.push(['Authorization', `Bearer ${options.token}`]);
    lines.push(...(options.headers ?? []));
    if (options.close ?? true) lines.push(['Connection', 'close']);
    const head = `${options.method ?? 'GET'} ${options.path} HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    const upstreamBefore = this.#upstream.total();
    this.#buffer = Buffer.alloc(0);
    this.socket.write(head);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseResponse(this.#buffer, this.#closed || this.#error !== null);
      if (parsed !== null) return { requestId, upstreamBefore, ...parsed };
      if (this.#closed || this.#error !== null) return { requestId, upstreamBefore, status: 0, headers: {}, body: '' };
      if (Date.now() > deadline) throw new Error(`no complete response within ${timeoutMs} ms: ${this.#buffer.toString('latin1').slice(0, 200)}`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  /** Resolves when the peer has closed the connection (or after `timeoutMs`, then false). */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.#closed;
  }

  close(): void {
    this.socket.destroy();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/** A complete response at the start of `data`, or null when more bytes are needed. */
function parseResponse(data: Buffer, ended: boolean): { status: number; headers: Record<string, string>; body: string } | null {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) return null;
  const [statusLine = '', ...lines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(statusLine.split(' ')[1]);
  const rest = data.subarray(headEnd + 4);
  const length = headers['content-length'];
  if (length !== undefined) {
    const n = Number(length);
    if (rest.length < n) return null;
    return { status, headers, body: rest.subarray(0, n).toString('utf8') };
  }
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    let body = Buffer.alloc(0);
    let at = 0;
    for (;;) {
      const nl = rest.indexOf('\r\n', at);
      if (nl === -1) return null;
      const size = parseInt(rest.subarray(at, nl).toString('latin1'), 16);
      if (size === 0) return { status, headers, body: body.toString('utf8') };
      if (rest.length < nl + 2 + size + 2) return null;
      body = Buffer.concat([body, rest.subarray(nl + 2, nl + 2 + size)]);
      at = nl + 2 + size + 2;
    }
  }
  return ended ? { status, headers, body: rest.toString('utf8') } : null;
}

// ---------------------------------------------------------------------------------------------
// The suite.

/** Fixed id of the test root CA's `ca_certificates` entity (for proof_of_possession_mtls_from_header). */
const rootCaId = '6a0f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
/** The client secret of the `/hs` route (enable_hs_signatures): the only key HS256 tokens may verify with. */
export const hsSecret = 'attack-corpus-client-secret-0123456789';
/** The trusted proxy's source address (`--trusted-ips`); 127.0.0.1 is an untrusted peer. */
export const trustedProxyAddress = '127.0.0.2';
/** `leeway` of the `/edges` route. */
export const edgeLeeway = 5;

/**
 * Routes (all to the counting upstream's /anything, all with tls-handshake-modifier globally and
 * openid-connect `auth_methods: [bearer]`, `proof_of_possession_mtls: strict`):
 * - `/strict`: nothing else (the tutorial);
 * - `/typ-pinned`: `token_typ_allowed: [at+jwt]`;
 * - `/edges`: `leeway: 5`, `audience_required: [urn:portcullis:api]`;
 * - `/hs`: `enable_hs_signatures: true` with `hsSecret`;
 * - `/from-header`: the certificate comes from `X-Client-Cert` (url_encoded, the test root CA),
 *   believed only from `trustedProxyAddress`.
 */
function gatewayConfig(issuer: string, upstreamUrl: string, pki: TestPki): string {
  const oidc = (route: string, extra: string): string => `  - name: openid-connect
    route: ${route}
    config:
      issuer: ${issuer}
      auth_methods: [bearer]
      proof_of_possession_mtls: strict
      proof_of_possession_auth_methods_validation: true
${extra}`;
  const indent = (pem: string): string => pem.trim().split('\n').map((l) => `      ${l}`).join('\n');
  return `_format_version: "3.0"
ca_certificates:
  - id: ${rootCaId}
    cert: |
${indent(pki.ca.certPem)}
services:
  - name: upstream
    url: ${upstreamUrl}/anything
    routes:
      - { name: strict, paths: ["/strict"] }
      - { name: typ-pinned, paths: ["/typ-pinned"] }
      - { name: edges, paths: ["/edges"] }
      - { name: hs, paths: ["/hs"] }
      - { name: from-header, paths: ["/from-header"] }
plugins:
  - name: tls-handshake-modifier
    config: { tls_client_certificate: REQUEST }
${oidc('strict', '')}${oidc('typ-pinned', '      token_typ_allowed: [at+jwt]\n')}${oidc('edges', `      leeway: ${edgeLeeway}\n      audience_required: [urn:portcullis:api]\n`)}${oidc(
    'hs',
    `      enable_hs_signatures: true\n      client_id: [${testIdpClientIds.tutorial}]\n      client_secret: [${hsSecret}]\n`,
  )}${oidc(
    'from-header',
    `      proof_of_possession_mtls_from_header:
        certificate_header_name: X-Client-Cert
        certificate_header_format: url_encoded
        ca_certificates: [${rootCaId}]
        revocation_check_mode: SKIP
`,
  )}`;
}

/** What a refusal must look like. */
export interface Refusal {
  readonly status: number;
  /** The stable reason code: access log `reason`, and `auth.reason` when the plugin refused. */
  readonly reason: string;
  /** The RFC 6750 `error` in the challenge; null: a challenge without `error`; 'none': no WWW-Authenticate at all. */
  readonly error: 'invalid_token' | 'invalid_request' | 'insufficient_scope' | null | 'none';
  /** `scope` of an insufficient_scope challenge. */
  readonly scope?: string;
  /** Whether openid-connect made the decision (default true): then `auth` is `{plugin, outcome: failure, reason}`. */
  readonly byPlugin?: boolean;
}

export interface AttackSuite {
  readonly idp: TestIdp;
  readonly pki: TestPki;
  readonly gateway: GatewayProcess;
  readonly upstream: CountingUpstream;
  /** The IdP's real, active signing keys. */
  readonly keys: { rsa: IdpSigningKey; ec: IdpSigningKey };
  readonly tlsPort: number;
  readonly plainPort: number;
  /** `realm` of every challenge: the issuer's host. */
  readonly realm: string;
  /** A token the IdP itself issued to the tutorial client (`pki.client`) over mTLS. */
  readonly idpToken: string;
  /** The claims the IdP would put in a token bound to `boundTo` (default `pki.client`), with `overrides` (undefined removes). */
  claims(overrides?: Record<string, unknown>, boundTo?: { thumbprint: string } | null): Record<string, unknown>;
  /** A token signed with the IdP's real key (RS256 unless `alg: 'ES256'`), header `{alg, typ: at+jwt, kid}` merged with `header`. */
  sign(claims: JsonPart, options?: { alg?: 'RS256' | 'ES256'; header?: Record<string, unknown> }): string;
  /** One request on a fresh connection. */
  send(request: RequestOptions, connect?: ConnectOptions): Promise<Exchange>;
  connect(options?: ConnectOptions): Promise<Connection>;
  /** The access-log record of a request (waits for its line). */
  record(requestId: string): Promise<AccessRecord>;
  /** Asserts status, challenge, body, nothing upstream, and the access-log reason codes. */
  expectRefused(exchange: Exchange, refusal: Refusal, note?: string): Promise<AccessRecord>;
  /** Asserts a 200 that reached the upstream once, authenticated by a verified JWT. */
  expectPassed(exchange: Exchange, note?: string): Promise<AccessRecord>;
  /** A fresh client certificate from the test root CA (same subject as the tutorial client by default). */
  issueClient(subject?: string): Promise<IssuedCertificate>;
}

/** Starts the suite in `before` and stops it in `after` of the calling file. */
export function useAttackSuite(): AttackSuite {
  let state:
    | {
        idp: TestIdp;
        echo: EchoServer;
        upstream: CountingUpstream;
        gateway: GatewayProcess;
        keys: { rsa: IdpSigningKey; ec: IdpSigningKey };
        idpToken: string;
      }
    | undefined;
  const need = () => {
    if (state === undefined) throw new Error('the attack suite has not started: use it inside a test');
    return state;
  };

  before(async () => {
    const idp = await startTestIdp();
    const echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const upstream = await startCountingUpstream(echo);
    const gateway = await startGatewayProcess({
      config: gatewayConfig(idp.issuer, upstream.url, idp.pki),
      args: ['--trusted-certificate', idp.caPath, '--trusted-ips', `${trustedProxyAddress}/32`],
    });
    const keys = await loadIdpSigningKeys(idp.dir);
    const issued = await idp.requestToken();
    if (issued.access_token === undefined) throw new Error(`the IdP issued no token: ${JSON.stringify(issued.body)}`);
    state = { idp, echo, upstream, gateway, keys, idpToken: issued.access_token };
  });

  after(async () => {
    await state?.gateway.stop();
    await state?.upstream.close();
    await state?.echo.close();
    await state?.idp.close();
  });

  const port = (ssl: boolean): number => {
    const l = need().gateway.listeners.find((x) => x.kind === 'proxy' && x.ssl === ssl);
    if (l === undefined) throw new Error(`no ${ssl ? 'TLS' : 'plain'} proxy listener`);
    return l.port;
  };

  const suite: AttackSuite = {
    get idp() {
      return need().idp;
    },
    get pki() {
      return need().idp.pki;
    },
    get gateway() {
      return need().gateway;
    },
    get upstream() {
      return need().upstream;
    },
    get keys() {
      return need().keys;
    },
    get tlsPort() {
      return port(true);
    },
    get plainPort() {
      return port(false);
    },
    get realm() {
      return new URL(need().idp.issuer).host;
    },
    get idpToken() {
      return need().idpToken;
    },
    claims(overrides = {}, boundTo) {
      const { idp } = need();
      const now = Math.floor(Date.now() / 1000);
      const bound = boundTo === undefined ? idp.pki.client : boundTo;
      const base: Record<string, unknown> = {
        iss: idp.issuer,
        sub: testIdpClientIds.tutorial,
        aud: 'urn:portcullis:api',
        client_id: testIdpClientIds.tutorial,
        iat: now,
        exp: now + 60,
        jti: randomUUID(),
        ...(bound === null ? {} : { cnf: { 'x5t#S256': bound.thumbprint } }),
      };
      return Object.fromEntries(Object.entries({ ...base, ...overrides }).filter(([, v]) => v !== undefined));
    },
    sign(claims, options = {}) {
      const key = options.alg === 'ES256' ? need().keys.ec : need().keys.rsa;
      return signJws({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...options.header }, claims, key.signer);
    },
    async connect(options = {}) {
      return Connection.open(options.transport === 'plain' ? port(false) : port(true), need().upstream, options);
    },
    async send(request, options = {}) {
      const connection = await suite.connect(options);
      try {
        return await connection.request(request);
      } finally {
        connection.close();
      }
    },
    async record(requestId) {
      const line = await need().gateway.waitForLog((l) => l['msg'] === 'request' && (l['access'] as AccessRecord | undefined)?.request_id === requestId);
      return line['access'] as AccessRecord;
    },
    async expectRefused(exchange, refusal, note = '') {
      const what = `${note} (${exchange.status} ${exchange.body.slice(0, 200)})`;
      assert.equal(exchange.status, refusal.status, `status ${what}`);
      const challenge = exchange.headers['www-authenticate'];
      if (refusal.error === 'none') {
        assert.equal(challenge, undefined, `no WWW-Authenticate ${what}`);
      } else {
        const params = [`realm="${suite.realm}"`];
        if (refusal.error !== null) params.push(`error="${refusal.error}"`);
        if (refusal.scope !== undefined) params.push(`scope="${refusal.scope}"`);
        assert.equal(challenge, `Bearer ${params.join(', ')}`, `WWW-Authenticate ${what}`);
      }
      const byPlugin = refusal.byPlugin ?? true;
      if (byPlugin) {
        const message = refusal.status === 401 ? 'Unauthorized' : refusal.status === 403 ? 'Forbidden' : refusal.status === 400 ? 'Bad Request' : undefined;
        if (message !== undefined) assert.deepEqual(JSON.parse(exchange.body), { message }, `body ${what}`);
      }
      const record = await suite.record(exchange.requestId);
      // Nothing upstream: neither this request id, nor any request at all while it ran.
      assert.equal(need().upstream.hitsFor(exchange.requestId), 0, `the upstream saw the request ${what}`);
      assert.equal(need().upstream.total(), exchange.upstreamBefore, `the upstream saw a request while this one ran ${what}`);
      assert.equal(record.status, refusal.status, `access-log status ${what}`);
      assert.equal(record.reason, refusal.reason, `access-log reason ${what}`);
      if (byPlugin) assert.deepEqual(record.auth, { plugin: 'openid-connect', outcome: 'failure', reason: refusal.reason }, `access-log auth ${what}`);
      else assert.equal(record.auth, null, `access-log auth ${what}`);
      return record;
    },
    async expectPassed(exchange, note = '') {
      const what = `${note} (${exchange.status} ${exchange.body.slice(0, 300)})`;
      assert.equal(exchange.status, 200, `status ${what}`);
      const record = await suite.record(exchange.requestId);
      assert.equal(need().upstream.hitsFor(exchange.requestId), 1, `the upstream got it once ${what}`);
      assert.equal(record.reason, null, `access-log reason ${what}`);
      assert.deepEqual(record.auth, { plugin: 'openid-connect', outcome: 'success', reason: 'jwt_verified' }, `access-log auth ${what}`);
      return record;
    },
    async issueClient(subject = tutorialClientSubject) {
      return issueCertificate({ ca: need().idp.pki.ca, subject, usage: 'client', keyType: 'ec-p256' });
    },
  };
  return suite;
}
