// Identity-provider faults, each against a real gateway process: an IdP that is down before the
// first request or goes down later, answers too slowly (head or body), answers garbage or names
// another issuer, rotates its keys, or is flooded through the gateway with unknown key ids.
// Faults the development IdP cannot produce come from the scripted issuer (scripted-issuer.ts);
// key rotation uses the development IdP itself (oidc-provider, HTTPS, its own rotation).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { admin } from '../helpers/admin.js';
import { startGatewayProcess, type GatewayProcess, type StartOptions } from '../helpers/gateway-process.js';
import { startTestIdp } from '../helpers/idp.js';
import { accessLine, assertRunning, eventually, pool, sleep, timedRequest, waitForLines, whileHealthyRouteServes, type TimedResponse } from './harness.js';
import { IDP_TIMEOUT_MS, oidcGatewayConfig, type OidcRoute } from './oidc-gateway.js';
import { ScriptedIssuer, type Fault } from './scripted-issuer.js';

/** No request may wait much longer than the plugin's `timeout`: 2.5× leaves room for a busy machine. */
const WAIT_BOUND_MS = 2.5 * IDP_TIMEOUT_MS;
/** The issuer's first retry after a failure (FIRST_BACKOFF_MS in issuer-registry.ts). */
const FIRST_BACKOFF_MS = 5_000;

const NO_KEYS_LOG = 'identity provider unreachable and no keys are known: requests needing them get 500';
const STALE_LOG = 'identity provider unreachable; verifying with the keys already known';

interface IssuerView {
  issuer: string;
  status: string;
  last_error: string | null;
  keys: Array<{ kid?: string }>;
}

async function issuerView(gateway: GatewayProcess, issuer: string): Promise<IssuerView> {
  const res = await admin(gateway.adminUrl, 'GET', '/openid-connect/issuers');
  assert.equal(res.status, 200);
  const found = res.json<{ data: IssuerView[] }>().data.find((i) => i.issuer === issuer);
  return found ?? assert.fail(`the admin API does not list ${issuer}`);
}

/** A refusal as openid-connect sends an `issuer_unavailable`: Kong's 500, nothing about the cause. */
async function assertIssuerUnavailable(gateway: GatewayProcess, res: TimedResponse): Promise<void> {
  assert.equal(res.status, 500, res.text);
  assert.deepEqual(res.json(), { message: 'An unexpected error occurred', request_id: res.requestId });
  const line = await accessLine(gateway, res.requestId);
  assert.equal(line.status, 500);
  assert.equal(line.reason, 'issuer_unavailable');
  assert.deepEqual(line.auth, { plugin: 'openid-connect', outcome: 'failure', reason: 'issuer_unavailable' });
}

async function assertKeyNotFound(gateway: GatewayProcess, res: TimedResponse): Promise<void> {
  assert.equal(res.status, 401, res.text);
  assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
  const line = await accessLine(gateway, res.requestId);
  assert.equal(line.reason, 'key_not_found');
}

describe('identity provider faults', () => {
  let echo: EchoServer;
  const gateways: GatewayProcess[] = [];
  const issuers: ScriptedIssuer[] = [];

  before(async () => {
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
  });
  // Each test's gateways and issuers go when it ends, whatever its outcome.
  afterEach(async () => {
    const done = gateways.splice(0);
    await Promise.all(done.map((g) => g.stop('SIGKILL')));
    await Promise.all(done.map((g) => rm(g.prefix, { recursive: true, force: true })));
    await Promise.all(issuers.splice(0).map((i) => i.stop()));
  });
  after(async () => {
    await echo.close();
  });

  const gatewayFor = async (routes: OidcRoute[], options: Omit<StartOptions, 'config'> = {}): Promise<GatewayProcess> => {
    const gateway = await startGatewayProcess({ ...options, config: oidcGatewayConfig(echo.url, routes) });
    gateways.push(gateway);
    return gateway;
  };
  const scriptedIssuer = async (options: { listening?: boolean } = {}): Promise<ScriptedIssuer> => {
    const issuer = await ScriptedIssuer.create(options);
    issuers.push(issuer);
    return issuer;
  };

  it('down before first use: 500 issuer_unavailable at once, the gateway keeps serving, and it recovers when the IdP comes up', async () => {
    const idp = await scriptedIssuer({ listening: false });
    const realm = await idp.realm('down-first');
    const gateway = await gatewayFor([{ name: 'down-first', issuer: realm.issuer }]);
    const url = `${gateway.httpUrl}/down-first`;

    await whileHealthyRouteServes(`${gateway.httpUrl}/open`, async () => {
      for (let i = 0; i < 5; i++) {
        const res = await timedRequest(url, { token: await realm.sign() });
        await assertIssuerUnavailable(gateway, res);
        // Nothing is listening: the gateway knows at once, there is nothing to wait for.
        assert.ok(res.ms < WAIT_BOUND_MS, `request ${i} took ${Math.round(res.ms)} ms`);
      }
    });
    const logged = await gateway.waitForLog((l) => l['msg'] === NO_KEYS_LOG && l['issuer'] === realm.issuer);
    assert.match(String(logged['err_message']), /ECONNREFUSED/);
    assert.equal(logged['level'], 50, 'an error-level line');
    const view = await issuerView(gateway, realm.issuer);
    assert.equal(view.status, 'unavailable');
    assert.match(String(view.last_error), /ECONNREFUSED/);

    await idp.start();
    const upAt = Date.now();
    await eventually(
      async () => {
        const res = await timedRequest(url, { token: await realm.sign() });
        if (res.status === 200) return res;
        await assertIssuerUnavailable(gateway, res);
        return undefined;
      },
      4 * FIRST_BACKOFF_MS,
      'the gateway to use the IdP once it is up',
      250,
    );
    // The retry comes on the issuer's backoff schedule (5 s after the first failure, doubling), not never.
    assert.ok(Date.now() - upAt <= 3 * FIRST_BACKOFF_MS, `recovered ${Date.now() - upAt} ms after the IdP came up`);
    const loaded = await gateway.waitForLog((l) => l['msg'] === 'issuer discovered and keys loaded' && l['issuer'] === realm.issuer);
    assert.equal(loaded['recovered'], true);
    assert.equal((await issuerView(gateway, realm.issuer)).status, 'ok');
    assert.ok(realm.hits.jwks >= 1);
    assertRunning(gateway);
  });

  it('down after warm-up: valid tokens keep getting 200 from the cached keys while the IdP is stopped', async () => {
    const idp = await scriptedIssuer();
    const realm = await idp.realm('down-later');
    // cache_ttl 1 s: the keys turn stale at once, so refreshes are attempted (and fail) while it is down.
    const gateway = await gatewayFor([{ name: 'down-later', issuer: realm.issuer, config: { cache_ttl: 1, rediscovery_lifetime: 1 } }]);
    const url = `${gateway.httpUrl}/down-later`;
    await eventually(async () => ((await timedRequest(url, { token: await realm.sign() })).status === 200 ? true : undefined), 5_000, 'the warm-up');
    const jwksBefore = realm.hits.jwks;

    await idp.stop();
    const stoppedAt = Date.now();
    let served = 0;
    // Until the gateway has noticed (a failed refresh is logged) and at least 2.5 s have passed.
    while (Date.now() - stoppedAt < 2_500 || !gateway.logs.some((l) => l['msg'] === STALE_LOG && l['issuer'] === realm.issuer)) {
      assert.ok(Date.now() - stoppedAt < 15_000, 'the gateway never tried to refresh the keys while the IdP was down');
      // A fresh token each time (new jti): verified with the cached key, not answered from the token cache.
      const res = await timedRequest(url, { token: await realm.sign() });
      assert.equal(res.status, 200, `a valid token was refused while the IdP is down: ${res.text}`);
      assert.ok(res.ms < WAIT_BOUND_MS, `a request took ${Math.round(res.ms)} ms while the IdP was down`);
      assert.equal((await accessLine(gateway, res.requestId)).auth?.reason, 'jwt_verified');
      served++;
      await sleep(100);
    }
    assert.ok(served >= 10, `only ${served} requests while the IdP was down`);
    assert.equal(realm.hits.jwks, jwksBefore, 'the IdP was down: it cannot have been asked');
    const stale = await gateway.waitForLog((l) => l['msg'] === STALE_LOG && l['issuer'] === realm.issuer);
    assert.match(String(stale['err_message']), /ECONNREFUSED/);
    const view = await issuerView(gateway, realm.issuer);
    assert.equal(view.status, 'stale');
    assert.deepEqual(view.keys.map((k) => k.kid), [realm.active.kid]);

    // A token naming a key the gateway does not know: refused as such (401), not a 500.
    const unknown = await timedRequest(url, { token: await realm.sign({}, { kid: 'not-a-known-kid' }) });
    await assertKeyNotFound(gateway, unknown);
    assert.ok(unknown.ms < WAIT_BOUND_MS);
    assertRunning(gateway);
  });

  it('slow IdP at first use (late head, or a body that stalls): every request is answered within ~timeout', async () => {
    const idp = await scriptedIssuer();
    const lateHead = await idp.realm('slow-head');
    const stalledBody = await idp.realm('slow-body');
    const slowness = 5 * IDP_TIMEOUT_MS;
    lateHead.discoveryFault = { kind: 'delay', ms: slowness };
    stalledBody.jwksFault = { kind: 'stall-body', ms: slowness };
    const gateway = await gatewayFor([
      { name: 'slow-head', issuer: lateHead.issuer },
      { name: 'slow-body', issuer: stalledBody.issuer },
    ]);
    const durations: Record<string, number[]> = { 'slow-head': [], 'slow-body': [] };
    const attempts = () => [lateHead.hits.discovery, stalledBody.hits.jwks];

    await whileHealthyRouteServes(`${gateway.httpUrl}/open`, async () => {
      // Through the first attempt (started when the configuration loaded) and the retry after the
      // backoff, which one of these requests starts and waits for itself.
      const started = Date.now();
      while (attempts().some((n) => n < 2) || Date.now() - started < 1_000) {
        assert.ok(Date.now() - started < 4 * FIRST_BACKOFF_MS, `the IdP got ${attempts().join('/')} attempts`);
        const results = await Promise.all(
          (['slow-head', 'slow-body'] as const).map(async (name) => {
            const realm = name === 'slow-head' ? lateHead : stalledBody;
            return [name, await timedRequest(`${gateway.httpUrl}/${name}`, { token: await realm.sign() })] as const;
          }),
        );
        for (const [name, res] of results) {
          await assertIssuerUnavailable(gateway, res);
          assert.ok(res.ms <= WAIT_BOUND_MS, `${name}: a request waited ${Math.round(res.ms)} ms (timeout ${IDP_TIMEOUT_MS} ms)`);
          durations[name]!.push(res.ms);
        }
        await sleep(200);
      }
    });
    // Some request did wait on the IdP (the retry it started), so the bound above was really exercised.
    for (const [name, list] of Object.entries(durations)) {
      assert.ok(Math.max(...list) >= 0.7 * IDP_TIMEOUT_MS, `${name}: no request waited for the slow IdP (${list.map(Math.round).join(', ')} ms)`);
    }
    for (const realm of [lateHead, stalledBody]) {
      const logged = await gateway.waitForLog((l) => l['msg'] === NO_KEYS_LOG && l['issuer'] === realm.issuer);
      assert.match(String(logged['err_message']), /timed out|timeout/i);
    }
    assert.equal(lateHead.hits.jwks, 0, 'no keys are fetched without a discovery document');
    assertRunning(gateway);
  });

  it('slow IdP after warm-up: known keys answer at once; unknown kids share one refetch and wait at most ~timeout', async () => {
    const idp = await scriptedIssuer();
    const realm = await idp.realm('slow-later');
    const timeout = 2 * IDP_TIMEOUT_MS;
    const gateway = await gatewayFor([{ name: 'slow-later', issuer: realm.issuer, config: { timeout, rediscovery_lifetime: 0 } }]);
    const url = `${gateway.httpUrl}/slow-later`;
    await eventually(async () => ((await timedRequest(url, { token: await realm.sign() })).status === 200 ? true : undefined), 5_000, 'the warm-up');
    const discoveriesBefore = realm.hits.discovery;

    realm.discoveryFault = { kind: 'delay', ms: 4 * timeout };
    const unknownTokens = await Promise.all(Array.from({ length: 6 }, (_, i) => realm.sign({}, { kid: `rotated-${i}` })));
    const knownTokens = await Promise.all(Array.from({ length: 10 }, () => realm.sign()));
    const [unknown, known] = await Promise.all([
      Promise.all(unknownTokens.map((token) => timedRequest(url, { token }))),
      (async () => {
        await sleep(100); // the refetch is in flight now
        return pool(knownTokens.length, 2, (i) => timedRequest(url, { token: knownTokens[i]! }));
      })(),
    ]);
    for (const res of known) {
      assert.equal(res.status, 200);
      // They never wait for the IdP: well under the timeout the unknown kids are waiting out.
      assert.ok(res.ms < timeout / 2, `a known-key token took ${Math.round(res.ms)} ms during a slow refetch`);
    }
    for (const res of unknown) {
      await assertKeyNotFound(gateway, res);
      assert.ok(res.ms <= 2.5 * timeout, `an unknown kid waited ${Math.round(res.ms)} ms (timeout ${timeout} ms)`);
    }
    assert.ok(Math.max(...unknown.map((r) => r.ms)) >= 0.7 * timeout, 'no unknown-kid request waited for the refetch');
    assert.equal(realm.hits.discovery - discoveriesBefore, 1, 'concurrent unknown kids share one refetch');
    assertRunning(gateway);
  });

  it('garbage or the wrong issuer from the IdP is refused: 500 issuer_unavailable, and the log says what was wrong', async () => {
    const idp = await scriptedIssuer();
    const respond = (status: number, contentType: string, body: string | Buffer): Fault => ({ kind: 'respond', status, contentType, body });
    const cases: Array<{ name: string; error: RegExp; endpoint: 'discovery' | 'jwks'; fault?: (doc: string) => Fault; advertise?: string }> = [
      { name: 'html-discovery', endpoint: 'discovery', fault: () => respond(200, 'text/html', '<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>'), error: /not JSON/ },
      { name: 'truncated-discovery', endpoint: 'discovery', fault: (doc) => respond(200, 'application/json', doc.slice(0, Math.floor(doc.length / 2))), error: /not JSON/ },
      { name: 'error-page', endpoint: 'discovery', fault: () => respond(503, 'text/html', '<html><body>503 Service Unavailable</body></html>'), error: /answered 503/ },
      { name: 'array-discovery', endpoint: 'discovery', fault: () => respond(200, 'application/json', '[]'), error: /is not a JSON object/ },
      { name: 'binary-discovery', endpoint: 'discovery', fault: () => respond(200, 'application/octet-stream', Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22])), error: /not JSON/ },
      { name: 'reset-discovery', endpoint: 'discovery', fault: () => ({ kind: 'reset' }), error: /socket|closed|reset/i },
      { name: 'wrong-issuer', endpoint: 'discovery', advertise: 'https://idp.attacker.example/realms/wrong-issuer', error: /names issuer 'https:\/\/idp\.attacker\.example\/realms\/wrong-issuer', expected 'http:\/\/127\.0\.0\.1:\d+\/realms\/wrong-issuer'/ },
      { name: 'html-jwks', endpoint: 'jwks', fault: () => respond(200, 'text/html', '<html><body>login required</body></html>'), error: /not JSON/ },
      { name: 'truncated-jwks', endpoint: 'jwks', fault: (doc) => respond(200, 'application/json', doc.slice(0, Math.floor(doc.length / 2))), error: /not JSON/ },
      { name: 'not-a-jwks', endpoint: 'jwks', fault: () => respond(200, 'application/json', '{"keys":"none"}'), error: /not a JWK Set/ },
      {
        name: 'no-usable-key',
        endpoint: 'jwks',
        // A symmetric key, and the realm's own key marked for encryption: nothing to verify a signature with.
        fault: (doc) => respond(200, 'application/json', JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }, ...(JSON.parse(doc) as { keys: object[] }).keys.map((k) => ({ ...k, use: 'enc' }))] })),
        error: /no usable signature key/,
      },
      { name: 'huge-jwks', endpoint: 'jwks', fault: () => respond(200, 'application/json', `{"keys":[],"padding":"${'x'.repeat(2 * 1024 * 1024)}"}`), error: /sent more than 1048576 bytes/ },
    ];
    const realms = await Promise.all(cases.map((c) => idp.realm(c.name)));
    cases.forEach((c, i) => {
      const realm = realms[i]!;
      if (c.advertise !== undefined) realm.advertisedIssuer = c.advertise;
      const fault = c.fault?.(JSON.stringify(c.endpoint === 'discovery' ? realm.discoveryDocument() : realm.jwks()));
      if (fault !== undefined && c.endpoint === 'discovery') realm.discoveryFault = fault;
      if (fault !== undefined && c.endpoint === 'jwks') realm.jwksFault = fault;
    });
    const gateway = await gatewayFor(cases.map((c, i) => ({ name: c.name, issuer: realms[i]!.issuer })));

    await whileHealthyRouteServes(`${gateway.httpUrl}/open`, async () => {
      for (const [i, c] of cases.entries()) {
        const realm = realms[i]!;
        // A token the issuer's published key really signed: the garbage is the only reason to refuse.
        const res = await timedRequest(`${gateway.httpUrl}/${c.name}`, { token: await realm.sign() });
        await assertIssuerUnavailable(gateway, res).catch((e: unknown) => assert.fail(`${c.name}: ${String(e)}`));
        assert.ok(res.ms < WAIT_BOUND_MS, `${c.name}: ${Math.round(res.ms)} ms`);
        const logged = await gateway.waitForLog((l) => l['msg'] === NO_KEYS_LOG && l['issuer'] === realm.issuer).catch((e: unknown) => assert.fail(`${c.name}: ${String(e)}`));
        assert.match(String(logged['err_message']), c.error, c.name);
        assert.match((await issuerView(gateway, realm.issuer)).last_error ?? '', c.error, c.name);
        assert.ok(realm.hits.discovery >= 1, `${c.name}: the discovery document was never asked for`);
        if (c.endpoint === 'discovery') assert.equal(realm.hits.jwks, 0, `${c.name}: keys were fetched after a refused discovery document`);
        else assert.ok(realm.hits.jwks >= 1, `${c.name}: the JWKS was never asked for`);
      }
    });
    // The keys that were skipped are named in a warning (not silently dropped).
    const skipped = await gateway.waitForLog((l) => l['msg'] === 'ignored unusable keys in a JWKS' && String(l['jwks_uri']).includes('/realms/no-usable-key/'));
    assert.deepEqual(skipped['skipped'], ['key 0: unsupported kty oct', `kid '${realms[cases.findIndex((c) => c.name === 'no-usable-key')]!.active.kid}': use is "enc"`]);
    assertRunning(gateway);
  });

  it('key rotation at the development IdP: new-key tokens work via the unknown-kid refetch; old-key tokens while the old key is published', async () => {
    const graceSeconds = 3;
    const cacheTtl = 6;
    const idp = await startTestIdp({ keyGraceSeconds: graceSeconds });
    try {
      const gateway = await gatewayFor([{ name: 'rotating', issuer: idp.issuer, config: { rediscovery_lifetime: 1, cache_ttl: cacheTtl } }], {
        args: ['--trusted-certificate', idp.caPath],
      });
      const url = `${gateway.httpUrl}/rotating`;
      // The current RS256 key, read where the IdP keeps it, to sign more old-key tokens after the rotation.
      const stored = JSON.parse(await readFile(join(idp.dir, 'signing-keys.json'), 'utf8')) as { keys: Array<{ jwk: JWK & { kid: string; alg: string }; retired_at: string | null }> };
      const oldJwk = stored.keys.find((k) => k.jwk.alg === 'RS256' && k.retired_at === null)?.jwk ?? assert.fail('no active RS256 key');
      const oldKey = await importJWK(oldJwk, 'RS256');
      const oldKeyToken = async (): Promise<string> => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ iss: idp.issuer, sub: 'kong', client_id: 'kong', iat: now, exp: now + 60, jti: randomUUID() })
          .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: oldJwk.kid })
          .sign(oldKey);
      };
      await eventually(async () => ((await timedRequest(url, { token: await idp.mintToken() })).status === 200 ? true : undefined), 10_000, 'the warm-up');
      assert.equal((await timedRequest(url, { token: await oldKeyToken() })).status, 200);

      await idp.idp.rotateKeys();
      const newToken = await idp.mintToken();
      const newKid = decodeProtectedHeader(newToken).kid ?? assert.fail('no kid');
      assert.notEqual(newKid, oldJwk.kid);
      // New-key tokens: 200 once the refetch (at most one per rediscovery_lifetime) has run; before
      // that, only key_not_found.
      await eventually(
        async () => {
          const res = await timedRequest(url, { token: await idp.mintToken() });
          if (res.status === 200) return true;
          await assertKeyNotFound(gateway, res);
          return undefined;
        },
        5_000,
        'new-key tokens to be accepted',
        200,
      );
      await gateway.waitForLog((l) => l['msg'] === 'token names an unknown key id; refetching the issuer keys' && l['kid'] === newKid);
      // Within the grace period the old key is still published: old-key tokens keep working.
      assert.equal((await timedRequest(url, { token: await oldKeyToken() })).status, 200);

      // The IdP withdraws the old key when the grace period ends…
      await eventually(async () => ((await idp.getJson('/protocol/openid-connect/certs')).body['keys'] as JWK[]).every((k) => k.kid !== oldJwk.kid) || undefined, (graceSeconds + 5) * 1000, 'the IdP to withdraw the old key');
      // …and the gateway follows at its next refresh (keys are fresh for cache_ttl): until then the
      // cached old key still verifies, afterwards old-key tokens are key_not_found.
      const refusedAt = await eventually(
        async () => {
          const res = await timedRequest(url, { token: await oldKeyToken() });
          if (res.status === 200) return undefined;
          await assertKeyNotFound(gateway, res);
          return Date.now();
        },
        (cacheTtl + 5) * 1000,
        'old-key tokens to be refused after the IdP withdrew the key',
        250,
      );
      assert.ok(refusedAt > 0);
      assert.equal((await timedRequest(url, { token: await idp.mintToken() })).status, 200, 'new-key tokens still work');
      assertRunning(gateway);
    } finally {
      await idp.close();
    }
  });

  it('a flood of unknown kids: the JWKS endpoint is fetched at most once per rediscovery_lifetime (once per backoff while it fails)', async () => {
    const idp = await scriptedIssuer();
    const realm = await idp.realm('flood');
    const cooldownSeconds = 1;
    const gateway = await gatewayFor([{ name: 'flood', issuer: realm.issuer, config: { rediscovery_lifetime: cooldownSeconds } }]);
    const url = `${gateway.httpUrl}/flood`;
    await eventually(async () => ((await timedRequest(url, { token: await realm.sign() })).status === 200 ? true : undefined), 5_000, 'the warm-up');

    const floodSize = 500;
    const tokens = await Promise.all(Array.from({ length: floodSize }, () => realm.sign({}, { kid: randomUUID() })));
    const valid = await Promise.all(Array.from({ length: 20 }, () => realm.sign()));
    const floodStart = Date.now();
    // Paced so the flood spans several cooldown periods (≥ 3 s), 8 requests at a time.
    const results = await pool(floodSize + valid.length, 8, async (i) => {
      const res = i % 26 === 25 ? timedRequest(url, { token: valid[Math.floor(i / 26)]! }) : timedRequest(url, { token: tokens[i - Math.floor(i / 26)]! });
      const done = await res;
      await sleep(50);
      return { valid: i % 26 === 25, res: done };
    });
    const floodEnd = Date.now();
    assert.ok(floodEnd - floodStart >= 3_000, `the flood lasted only ${floodEnd - floodStart} ms`);

    const refused = results.filter((r) => !r.valid);
    assert.equal(refused.length, floodSize);
    assert.deepEqual([...new Set(refused.map((r) => r.res.status))], [401]);
    assert.deepEqual([...new Set(results.filter((r) => r.valid).map((r) => r.res.status))], [200], 'valid tokens keep working during the flood');
    const ids = new Set(refused.map((r) => r.res.requestId));
    const lines = await waitForLines(gateway, (l) => l['msg'] === 'request' && ids.has((l['access'] as { request_id: string }).request_id), floodSize);
    assert.deepEqual([...new Set(lines.map((l) => (l['access'] as { reason: string }).reason))], ['key_not_found']);

    const cooldownMs = cooldownSeconds * 1000;
    const during = realm.jwksTimes.filter((t) => t >= floodStart && t <= floodEnd);
    const allowed = Math.floor((floodEnd - floodStart) / cooldownMs) + 1;
    assert.ok(during.length <= allowed, `${during.length} JWKS fetches in ${floodEnd - floodStart} ms; at most ${allowed} allowed by rediscovery_lifetime ${cooldownSeconds} s`);
    assert.ok(during.length >= 2, `the unknown kids never made the gateway refetch (${during.length} fetches)`);
    const all = realm.jwksTimes;
    for (let i = 1; i < all.length; i++) {
      // 50 ms of slack for timer granularity between two processes' clocks on one machine.
      assert.ok(all[i]! - all[i - 1]! >= cooldownMs - 50, `two JWKS fetches ${all[i]! - all[i - 1]!} ms apart (cooldown ${cooldownMs} ms)`);
    }
    assert.equal(realm.hits.discovery, realm.hits.jwks, 'each refetch is one discovery and one JWKS request');

    // While the IdP fails, the failure backoff (5 s first) is the cooldown: one attempt in a 3 s flood.
    realm.jwksFault = { kind: 'respond', status: 503, contentType: 'text/plain', body: 'overloaded' };
    await sleep(cooldownMs); // past the last successful refetch's cooldown
    const failingStart = Date.now();
    const during503 = await pool(200, 4, async () => {
      const res = await timedRequest(url, { token: await realm.sign({}, { kid: randomUUID() }) });
      await sleep(50);
      return res;
    });
    const failingEnd = Date.now();
    assert.ok(failingEnd - failingStart >= 2_500 && failingEnd - failingStart < FIRST_BACKOFF_MS, `the second flood lasted ${failingEnd - failingStart} ms`);
    assert.deepEqual([...new Set(during503.map((r) => r.status))], [401], 'known keys are kept: unknown kids are key_not_found, never a 500');
    const attemptsWhileFailing = realm.jwksTimes.filter((t) => t >= failingStart && t <= failingEnd).length;
    assert.equal(attemptsWhileFailing, 1, `${attemptsWhileFailing} JWKS requests while the IdP was failing; the backoff allows one in ${FIRST_BACKOFF_MS} ms`);
    const stale = await gateway.waitForLog((l) => l['msg'] === STALE_LOG && l['issuer'] === realm.issuer);
    assert.equal(stale['retry_in_ms'], FIRST_BACKOFF_MS);
    assert.match(String(stale['err_message']), /answered 503/);
    assertRunning(gateway);
  });
});
