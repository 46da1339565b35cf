import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Service } from '../config/types.js';
import { close, createTestGateway, listen, serviceFor, testResources, until } from './fixtures.js';

const { upstream, poolsFor, defer } = testResources();

describe('sendUpstream and pipeResponse through a gateway', () => {
  async function gatewayFor(service: Service): Promise<{ port: number; outcome: ReturnType<typeof createTestGateway>['outcome'] }> {
    const { server, outcome } = createTestGateway(service, poolsFor(service));
    const port = await listen(server);
    defer(() => close(server));
    return { port, outcome };
  }

  it('streams a 10 MiB request body and a 10 MiB response body intact, without buffering either', async () => {
    const size = 10 * 1024 * 1024;
    const chunkSize = 64 * 1024;
    let upstreamReceived = 0;
    let upstreamRequestHash = '';
    let clientReceived = 0;
    const responseHash = createHash('sha256');
    const { port } = await upstream((req, res) => {
      const hash = createHash('sha256');
      req.on('data', (chunk: Buffer) => {
        upstreamReceived += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => {
        upstreamRequestHash = hash.digest('hex');
        void (async () => {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          for (let sent = 0; sent < size; sent += chunkSize) {
            // Half-way, wait for the client to have seen bytes: a gateway that buffered the whole
            // response would never deliver them, and this test would time out.
            if (sent === size / 2) await until(() => clientReceived > 0, 10_000);
            const chunk = randomBytes(chunkSize);
            responseHash.update(chunk);
            if (!res.write(chunk)) await once(res, 'drain');
          }
          res.end();
        })();
      });
    });
    const gateway = await gatewayFor(serviceFor({ port }));

    const requestHash = createHash('sha256');
    async function* requestBody(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < size; sent += chunkSize) {
        // Likewise for the request: the rest is produced only once the upstream got bytes.
        if (sent === size / 2) await until(() => upstreamReceived > 0, 10_000);
        const chunk = randomBytes(chunkSize);
        requestHash.update(chunk);
        yield chunk;
      }
    }
    const clientHash = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: gateway.port, method: 'POST', path: '/upload', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        assert.equal(res.statusCode, 200);
        res.on('data', (chunk: Buffer) => {
          clientReceived += chunk.length;
          clientHash.update(chunk);
        });
        res.on('end', resolve);
        res.on('error', reject);
      });
      req.on('error', reject);
      Readable.from(requestBody()).pipe(req);
    });
    assert.equal(upstreamReceived, size);
    assert.equal(upstreamRequestHash, requestHash.digest('hex'));
    assert.equal(clientReceived, size);
    assert.equal(clientHash.digest('hex'), responseHash.digest('hex'));
  });

  it('aborts the upstream request when the client disconnects while waiting for the response', async () => {
    let arrived = false;
    let upstreamClosed = false;
    const { port } = await upstream((req) => {
      arrived = true;
      req.socket.on('close', () => (upstreamClosed = true));
    });
    const gateway = await gatewayFor(serviceFor({ port }));
    const req = httpRequest({ host: '127.0.0.1', port: gateway.port, path: '/wait' });
    req.on('error', () => undefined);
    req.end();
    await until(() => arrived);
    req.destroy();
    await until(() => upstreamClosed);
    await until(() => gateway.outcome.error !== null);
    assert.equal(gateway.outcome.error?.code, 'client_aborted');
  });

  it('closes the upstream connection when the client goes away in the middle of the response body', async () => {
    let upstreamClosed = false;
    const { port } = await upstream((req, res) => {
      res.socket?.on('close', () => (upstreamClosed = true));
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
    });
    const gateway = await gatewayFor(serviceFor({ port }));
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: gateway.port, path: '/' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end();
    });
    await until(() => upstreamClosed);
    await until(() => gateway.outcome.error !== null);
    assert.equal(gateway.outcome.error?.code, 'client_aborted');
  });

  it('destroys the client connection when the upstream fails in the middle of the body', async () => {
    const { port } = await upstream((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('only a little', () => res.socket?.destroy());
    });
    const gateway = await gatewayFor(serviceFor({ port }));
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: gateway.port, path: '/' }, (res) => {
        res.resume();
        res.on('end', () => resolve('ended'));
        res.on('aborted', () => resolve('aborted'));
        res.on('error', () => resolve('aborted'));
      });
      req.on('error', () => resolve('aborted'));
      req.end();
    });
    assert.equal(outcome, 'aborted');
    await until(() => gateway.outcome.error !== null);
    assert.equal(gateway.outcome.error?.code, 'upstream_reset');
  });

  it('forwards trailers of a chunked response', async () => {
    const { port } = await upstream((req, res) => {
      res.writeHead(200, { trailer: 'x-checksum' });
      res.write('body');
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end();
    });
    const gateway = await gatewayFor(serviceFor({ port }));
    const trailers = await new Promise<NodeJS.Dict<string>>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: gateway.port, path: '/', headers: { te: 'trailers' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.trailers));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(trailers['x-checksum'], 'abc');
  });
});
