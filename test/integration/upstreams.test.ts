import { closedPort } from '../helpers/ports.js';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';

/** A target that answers with its own name and the Host header it received. */
async function startTarget(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ target: name, host: req.headers.host }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A port nothing listens on (it was free a moment ago): connecting is refused. */
interface Answer {
  target: string;
  host: string;
}

describe('upstreams and targets: balancing through the proxy', () => {
  const targets: Array<{ server: Server; port: number }> = [];
  let gateway: GatewayProcess;
  let refused: number;

  before(async () => {
    for (const name of ['a', 'b', 'c']) targets.push(await startTarget(name));
    refused = await closedPort();
    const [a, b, c] = targets.map((t) => t.port);
    gateway = await startGatewayProcess({
      config: `_format_version: "3.0"
services:
  - name: weighted
    host: weighted.internal
    port: 1
    routes: [{ name: weighted, paths: ["/weighted"] }]
  - name: renamed
    host: renamed.internal
    routes:
      - { name: renamed, paths: ["/renamed"] }
      - { name: preserved, paths: ["/preserved"], preserve_host: true }
  - name: flaky
    host: flaky.internal
    retries: 3
    routes: [{ name: flaky, paths: ["/flaky"] }]
  - name: empty
    host: Empty.Internal
    routes: [{ name: empty, paths: ["/empty"] }]
upstreams:
  - name: weighted.internal
    targets:
      - { target: "127.0.0.1:${a}", weight: 100 }
      - { target: "localhost:${b}", weight: 50 }
      - { target: "127.0.0.1:${c}", weight: 0 }
  - name: renamed.internal
    host_header: api.example.test
    targets: [{ target: "127.0.0.1:${a}" }]
  - name: flaky.internal
    targets:
      - target: "127.0.0.1:${refused}"
      - target: "127.0.0.1:${b}"
  - name: empty.internal
    targets: [{ target: "127.0.0.1:${a}", weight: 0 }]
`,
    });
  });

  after(async () => {
    await gateway?.stop();
    for (const t of targets) await new Promise<void>((resolve) => t.server.close(() => resolve()));
  });

  it('spreads requests over the targets by weight, never to a weight-0 target, ignoring the service port', async () => {
    const counts: Record<string, number> = {};
    const hosts = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const response = await fetchText(`${gateway.httpUrl}/weighted`);
      assert.equal(response.status, 200);
      const answer = response.json<Answer>();
      counts[answer.target] = (counts[answer.target] ?? 0) + 1;
      hosts.add(answer.host);
    }
    assert.deepEqual(counts, { a: 20, b: 10 });
    // The Host header is the target's, with its port (not the upstream name): Kong's set_host_header.
    assert.deepEqual([...hosts].sort(), [`127.0.0.1:${targets[0]!.port}`, `localhost:${targets[1]!.port}`]);
  });

  it("sends the upstream's host_header with the target's port, and the client's Host with preserve_host", async () => {
    const renamed = (await fetchText(`${gateway.httpUrl}/renamed`)).json<Answer>();
    assert.equal(renamed.host, `api.example.test:${targets[0]!.port}`);
    const preserved = (await fetchText(`${gateway.httpUrl}/preserved`, { headers: { host: 'client.example.test' } })).json<Answer>();
    assert.equal(preserved.host, 'client.example.test');
  });

  it('retries a refused connection on another target', async () => {
    for (let i = 0; i < 4; i++) {
      const response = await fetchText(`${gateway.httpUrl}/flaky`);
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json<Answer>().target, 'b');
    }
  });

  it("answers 503 as Kong when the upstream has no target to take the request (the host matched case-insensitively)", async () => {
    const response = await fetchText(`${gateway.httpUrl}/empty`);
    assert.equal(response.status, 503);
    assert.equal(response.json<{ message: string }>().message, 'failure to get a peer from the ring-balancer');
    const record = await gateway.waitForLog((l) => (l.access as { route?: string } | undefined)?.route === 'empty');
    assert.equal((record.access as { reason: string }).reason, 'upstream_no_target');
    assert.ok(accessRecords(gateway).length > 0);
  });
});

describe('upstreams: consistent hashing and least connections through the proxy', () => {
  const servers: Server[] = [];
  const held: Array<() => void> = [];
  const hits: Record<string, number> = {};
  let gateway: GatewayProcess;

  /** A target that counts its requests; `hold` keeps every request open until `releaseAll`. */
  async function start(name: string, hold: boolean): Promise<number> {
    const server = createServer((req, res) => {
      hits[name] = (hits[name] ?? 0) + 1;
      const answer = (): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ target: name, host: req.headers.host }));
      if (hold && req.url?.startsWith('/fewest') === true) held.push(answer);
      else answer();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  before(async () => {
    const [a, b, c, slow] = [await start('a', false), await start('b', false), await start('c', false), await start('slow', true)];
    gateway = await startGatewayProcess({
      config: `_format_version: "3.0"
services:
  - { name: by-header, host: by-header.internal, routes: [{ name: by-header, paths: ["/by-header"] }] }
  - { name: by-cookie, host: by-cookie.internal, routes: [{ name: by-cookie, paths: ["/by-cookie"] }] }
  - { name: fewest, host: fewest.internal, routes: [{ name: fewest, paths: ["/fewest"], strip_path: false }] }
upstreams:
  - name: by-header.internal
    hash_on: header
    hash_on_header: X-User
    targets: [{ target: "127.0.0.1:${a}" }, { target: "127.0.0.1:${b}" }, { target: "127.0.0.1:${c}" }]
  - name: by-cookie.internal
    hash_on: cookie
    hash_on_cookie: sticky
    hash_on_cookie_path: /by-cookie
    targets: [{ target: "127.0.0.1:${a}" }, { target: "127.0.0.1:${b}" }, { target: "127.0.0.1:${c}" }]
  - name: fewest.internal
    algorithm: least-connections
    targets: [{ target: "127.0.0.1:${slow}" }, { target: "127.0.0.1:${b}" }]
`,
    });
  });

  after(async () => {
    for (const release of held.splice(0)) release();
    await gateway?.stop();
    for (const server of servers) server.close();
  });

  it('consistent hashing on a header: one user always reaches the same target, many users spread', async () => {
    const targetOf = async (user: string): Promise<string> => (await fetchText(`${gateway.httpUrl}/by-header`, { headers: { 'x-user': user } })).json<Answer>().target;
    const first = await targetOf('alice');
    for (let i = 0; i < 5; i++) assert.equal(await targetOf('alice'), first);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(await targetOf(`user-${i}`));
    assert.equal(seen.size, 3, 'forty users land on all three targets');
  });

  it("consistent hashing on a cookie: the gateway sets one when it is missing (Kong's attributes), and it sticks", async () => {
    const response = await fetchText(`${gateway.httpUrl}/by-cookie`);
    const setCookie = String(response.headers['set-cookie']);
    assert.match(setCookie, /^sticky=[0-9a-f-]{36}; Path=\/by-cookie; Same-Site=Lax; HttpOnly$/);
    const cookie = setCookie.split(';')[0]!;
    const target = response.json<Answer>().target;
    for (let i = 0; i < 5; i++) {
      const again = await fetchText(`${gateway.httpUrl}/by-cookie`, { headers: { cookie } });
      assert.equal(again.json<Answer>().target, target);
      assert.equal(again.headers['set-cookie'], undefined, 'no new cookie when the request has one');
    }
  });

  it('least connections: while one target holds a request open, the next requests go to the other', async () => {
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < 6; i++) {
      const request = fetchText(`${gateway.httpUrl}/fewest`);
      pending.push(request);
      // A request to the fast target is answered at once; one to the slow one stays open.
      await Promise.race([request, sleep(150)]);
    }
    assert.equal(hits.slow, 1, 'the slow target got one request and kept it: every later one went to b');
    for (const release of held.splice(0)) release();
    await Promise.all(pending);
  });
});
