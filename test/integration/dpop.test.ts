// RFC 9449 end to end: DPoP-bound tokens from the real development IdP (oidc-provider), requested
// with oauth4webapi, used through a gateway process with two workers, with proofs made by panva's
// `dpop` package. Covers JWT and opaque (introspected) tokens, nonces, and a proof replayed to the
// other worker.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { connect as http2Connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import * as dpop from 'dpop';
import { Agent, Client, request } from 'undici';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { dpopAccessToken } from '../helpers/dpop-token.js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { devClientSecret, startTestIdp, testIdpClientIds, type TestIdp } from '../helpers/idp.js';

type KeyPair = Awaited<ReturnType<typeof dpop.generateKeyPair>>;

describe('DPoP through the gateway with the development IdP', () => {
  let idp: TestIdp;
  let nonceIdp: TestIdp;
  let echo: EchoServer;
  let gateway: GatewayProcess;
  let origin: string;
  let key: KeyPair;
  let jwtToken: string;
  let opaqueToken: string;
  const clients: Client[] = [];

  const dpopToken = dpopAccessToken;

  const send = async (path: string, headers: Record<string, string>, via?: Client) => {
    const options = { path, method: 'GET' as const, headers };
    const res = via === undefined ? await request(`${origin}${path}`, { headers, dispatcher: new Agent({ connect: { rejectUnauthorized: false } }) }) : await via.request(options);
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  };
  const proofFor = (path: string, token: string, nonce?: string) => dpop.generateProof(key, `${origin}${path}`, 'GET', nonce, token);

  before(async () => {
    idp = await startTestIdp();
    nonceIdp = await startTestIdp({ dpopNonces: true });
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const rp = (path: string, config: string) => `      - name: r${path.replace(/\//g, '-')}
        paths: ["${path}"]
        plugins:
          - name: openid-connect
            config:
              issuer: ${idp.issuer}
              proof_of_possession_dpop: strict
${config}`;
    gateway = await startGatewayProcess({
      args: ['--workers', '2', '--trusted-certificate', idp.caPath, '--proxy-listen', '127.0.0.1:0, 127.0.0.1:0 http2 ssl'],
      config: `_format_version: "3.0"
services:
  - name: echo
    url: ${echo.url}/anything
    routes:
${rp('/jwt', '              auth_methods: [bearer]\n')}
${rp('/nonce', '              auth_methods: [bearer]\n              dpop_use_nonce: true\n')}
${rp('/opaque', `              auth_methods: [introspection]\n              client_id: [${testIdpClientIds.introspection}]\n              client_secret: [${devClientSecret}]\n`)}
`,
    });
    origin = gateway.httpsUrl;
    key = await dpop.generateKeyPair('ES256');
    jwtToken = (await dpopToken(idp, testIdpClientIds.dpop, key)).access_token;
    opaqueToken = (await dpopToken(idp, testIdpClientIds.dpopOpaque, key)).access_token;
  });
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gateway?.stop();
    await echo?.close();
    await idp?.close();
    await nonceIdp?.close();
  });

  it('gets DPoP-bound tokens from the IdP: token_type DPoP, cnf.jkt the key thumbprint', async () => {
    const fresh = await dpopToken(idp, testIdpClientIds.dpop, key);
    assert.equal(fresh.token_type.toLowerCase(), 'dpop');
    const claims = JSON.parse(Buffer.from(fresh.access_token.split('.')[1]!, 'base64url').toString()) as { cnf?: { jkt?: string } };
    assert.equal(claims.cnf?.jkt, await dpop.calculateThumbprint(key.publicKey));
    const introspected = await idp.introspect(opaqueToken);
    assert.deepEqual(introspected.body['cnf'], { jkt: await dpop.calculateThumbprint(key.publicKey) });
    // With nonces on, oauth4webapi retries once with the IdP's nonce and succeeds.
    assert.equal((await dpopToken(nonceIdp, testIdpClientIds.dpop, key)).token_type.toLowerCase(), 'dpop');
  });

  it('serves a JWT token with a fresh proof; the upstream sees Bearer and no proof', async () => {
    const res = await send('/jwt', { authorization: `DPoP ${jwtToken}`, dpop: await proofFor('/jwt', jwtToken) });
    assert.equal(res.status, 200, res.text);
    const echoed = JSON.parse(res.text) as { headers: Record<string, string> };
    assert.equal(echoed.headers['Authorization'] ?? echoed.headers['authorization'], `Bearer ${jwtToken}`);
    assert.equal(Object.keys(echoed.headers).find((h) => h.toLowerCase() === 'dpop'), undefined);
  });

  it('checks proofs over HTTP/2 as over HTTP/1.1: htu from :authority, a replay refused', async () => {
    const session = http2Connect(origin, { rejectUnauthorized: false });
    const get = (headers: Record<string, string>): Promise<{ status: number; challenge: string | undefined }> =>
      new Promise((resolve, reject) => {
        const stream = session.request({ ':path': '/jwt', ...headers });
        stream.on('response', (h) => resolve({ status: Number(h[':status']), challenge: h['www-authenticate'] }));
        stream.on('error', reject);
        stream.resume();
      });
    try {
      const proof = await proofFor('/jwt', jwtToken);
      assert.equal((await get({ authorization: `DPoP ${jwtToken}`, dpop: proof })).status, 200);
      const replayed = await get({ authorization: `DPoP ${jwtToken}`, dpop: proof });
      assert.equal(replayed.status, 401);
      assert.match(String(replayed.challenge), /^DPoP /);
      const elsewhere = await get({ authorization: `DPoP ${jwtToken}`, dpop: await dpop.generateProof(key, `${origin}/other`, 'GET', undefined, jwtToken) });
      assert.equal(elsewhere.status, 401);
    } finally {
      session.close();
    }
  });

  it('serves an opaque token through introspection, ath over the opaque string', async () => {
    const res = await send('/opaque', { authorization: `DPoP ${opaqueToken}`, dpop: await proofFor('/opaque', opaqueToken) });
    assert.equal(res.status, 200, res.text);
    const other = await send('/opaque', { authorization: `DPoP ${opaqueToken}`, dpop: await dpop.generateProof(await dpop.generateKeyPair('ES256'), `${origin}/opaque`, 'GET', undefined, opaqueToken) });
    assert.equal(other.status, 401);
  });

  it('refuses a missing proof, the token as Bearer, and a replay — nothing reaches the upstream', async () => {
    const none = await send('/jwt', { authorization: `DPoP ${jwtToken}` });
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^DPoP algs="[^"]+", realm="[^"]+", error="invalid_dpop_proof"$/);
    const bearer = await send('/jwt', { authorization: `Bearer ${jwtToken}` });
    assert.equal(bearer.status, 401);
    const proof = await proofFor('/jwt', jwtToken);
    assert.equal((await send('/jwt', { authorization: `DPoP ${jwtToken}`, dpop: proof })).status, 200);
    assert.equal((await send('/jwt', { authorization: `DPoP ${jwtToken}`, dpop: proof })).status, 401);
    await gateway.waitForLog((l) => (l['access'] as { reason?: string } | undefined)?.reason === 'dpop_proof_replayed');
    const refused = accessRecords(gateway).filter((r) => String(r['reason']).startsWith('dpop_'));
    for (const reason of ['dpop_proof_missing', 'dpop_token_downgraded', 'dpop_proof_replayed']) assert.ok(refused.some((r) => r['reason'] === reason), reason);
    for (const record of refused) assert.equal((record['latency_ms'] as { upstream: unknown }).upstream, null, `${String(record['reason'])} reached the upstream`);
  });

  it('refuses a proof replayed to the other worker', async () => {
    // One connection per client; find two served by different worker processes.
    const byPid = new Map<number, Client>();
    for (let i = 0; i < 40 && byPid.size < 2; i++) {
      const client = new Client(origin, { connect: { rejectUnauthorized: false }, pipelining: 1 });
      clients.push(client);
      const id = `probe-${i}-${Date.now()}`;
      await send('/jwt', { 'x-request-id': id }, client);
      const line = await gateway.waitForLog((l) => (l['access'] as { request_id?: string } | undefined)?.request_id === id);
      if (!byPid.has(line['pid'] as number)) byPid.set(line['pid'] as number, client);
    }
    assert.equal(byPid.size, 2, 'two workers serve connections');
    const [first, second] = [...byPid.values()];
    const proof = await proofFor('/jwt', jwtToken);
    assert.equal((await send('/jwt', { authorization: `DPoP ${jwtToken}`, dpop: proof }, first)).status, 200);
    const replay = await send('/jwt', { authorization: `DPoP ${jwtToken}`, dpop: proof }, second);
    assert.equal(replay.status, 401);
    assert.match(String(replay.headers['www-authenticate']), /error="invalid_dpop_proof"/);
  });

  it('with dpop_use_nonce: 401 use_dpop_nonce and a DPoP-Nonce, then 200 with it; the nonce works on either worker', async () => {
    const first = await send('/nonce', { authorization: `DPoP ${jwtToken}`, dpop: await proofFor('/nonce', jwtToken) });
    assert.equal(first.status, 401);
    assert.match(String(first.headers['www-authenticate']), /error="use_dpop_nonce"/);
    const nonce = String(first.headers['dpop-nonce']);
    assert.match(nonce, /^[A-Za-z0-9_-]{30}$/);
    for (let i = 0; i < 4; i++) {
      const res = await send('/nonce', { authorization: `DPoP ${jwtToken}`, dpop: await proofFor('/nonce', jwtToken, nonce) });
      assert.equal(res.status, 200, res.text);
    }
  });

  it('keeps the nonce key in the prefix, private to its owner', async () => {
    const file = `${gateway.prefix}/dpop-nonce.key`;
    assert.match(await readFile(file, 'utf8'), /^[A-Za-z0-9_-]{43}\n$/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });
});
