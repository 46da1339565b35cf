import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { buildUpstreamHeaders, filterResponseHeaders, type UpstreamHeaderArgs } from './headers.js';

function build(clientHeaders: IncomingHttpHeaders, overrides: Partial<UpstreamHeaderArgs> = {}) {
  return buildUpstreamHeaders({
    clientHeaders,
    clientAddress: '10.0.0.9',
    trustedPeer: false,
    scheme: 'https',
    host: 'api.example.com',
    port: 8443,
    path: '/orders/42',
    strippedPrefix: null,
    upstreamHost: 'backend.internal:8080',
    requestId: 'req-1',
    via: '1.1 portcullis',
    ...overrides,
  });
}

describe('buildUpstreamHeaders', () => {
  it('drops hop-by-hop headers and every header the Connection header names', () => {
    const out = build({
      connection: 'keep-alive, X-Session-Hop, Upgrade',
      'x-session-hop': 'secret',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      proxy: 'http://evil.example',
      te: 'gzip',
      trailer: 'x-checksum',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      expect: '100-continue',
      accept: 'application/json',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
    });
    for (const name of ['connection', 'x-session-hop', 'keep-alive', 'proxy-connection', 'proxy', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']) {
      assert.equal(out[name], undefined, name);
    }
    assert.equal(out['accept'], 'application/json');
    // Kong (nginx) forwards Proxy-Authorization; so do we.
    assert.equal(out['proxy-authorization'], 'Basic Zm9vOmJhcg==');
  });

  it('forwards TE only as "trailers", and only when the client asked for trailers', () => {
    assert.equal(build({ te: 'gzip, trailers' })['te'], 'trailers');
    assert.equal(build({ te: 'gzip' })['te'], undefined);
  });

  it('replaces Host with the upstream host and keeps end-to-end headers as sent', () => {
    const out = build({ host: 'api.example.com:8443', 'set-cookie': ['a=1', 'b=2'], 'content-length': '12' });
    assert.equal(out['host'], 'backend.internal:8080');
    assert.deepEqual(out['set-cookie'], ['a=1', 'b=2']);
    assert.equal(out['content-length'], '12');
  });

  it('never forwards HTTP/2 pseudo-headers', () => {
    const pseudo: IncomingHttpHeaders = { ':authority': 'api.example.com', ':path': '/x' };
    const out = build(pseudo);
    assert.equal(out[':authority'], undefined);
    assert.equal(out[':path'], undefined);
  });

  it('from an untrusted peer, sets X-Forwarded-* from the request and ignores the client values', () => {
    const out = build(
      {
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'spoofed.example',
        'x-forwarded-port': '1',
        'x-forwarded-path': '/spoofed',
        'x-forwarded-prefix': '/spoofed',
        'x-real-ip': '6.6.6.6',
      },
      { strippedPrefix: '/orders' },
    );
    assert.equal(out['x-forwarded-proto'], 'https');
    assert.equal(out['x-forwarded-host'], 'api.example.com');
    assert.equal(out['x-forwarded-port'], '8443');
    assert.equal(out['x-forwarded-path'], '/orders/42');
    assert.equal(out['x-forwarded-prefix'], '/orders');
    assert.equal(out['x-real-ip'], '10.0.0.9');
  });

  it('from a trusted peer, keeps the client X-Forwarded-* values and falls back per header', () => {
    const out = build(
      { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'edge.example', 'x-forwarded-prefix': '/edge', 'x-real-ip': '203.0.113.7' },
      { trustedPeer: true, strippedPrefix: '/orders' },
    );
    assert.equal(out['x-forwarded-proto'], 'http');
    assert.equal(out['x-forwarded-host'], 'edge.example');
    assert.equal(out['x-forwarded-port'], '8443');
    assert.equal(out['x-forwarded-path'], '/orders/42');
    assert.equal(out['x-forwarded-prefix'], '/edge');
    assert.equal(out['x-real-ip'], '203.0.113.7');
  });

  it('appends the peer to X-Forwarded-For (as Kong does, trusted or not) and starts a list without one', () => {
    assert.equal(build({ 'x-forwarded-for': '198.51.100.1' })['x-forwarded-for'], '198.51.100.1, 10.0.0.9');
    assert.equal(build({ 'x-forwarded-for': '198.51.100.1' }, { trustedPeer: true })['x-forwarded-for'], '198.51.100.1, 10.0.0.9');
    assert.equal(build({})['x-forwarded-for'], '10.0.0.9');
  });

  it('reports an IPv4 client of a dual-stack listener as plain IPv4', () => {
    const out = build({}, { clientAddress: '::ffff:127.0.0.1' });
    assert.equal(out['x-forwarded-for'], '127.0.0.1');
    assert.equal(out['x-real-ip'], '127.0.0.1');
    assert.equal(build({}, { clientAddress: '::1' })['x-real-ip'], '::1');
  });

  it('sends no X-Forwarded-Prefix without a stripped prefix, or for "/"', () => {
    assert.equal(build({ 'x-forwarded-prefix': '/spoofed' })['x-forwarded-prefix'], undefined);
    assert.equal(build({}, { strippedPrefix: '/' })['x-forwarded-prefix'], undefined);
  });

  it('appends its Via entry and sets the request id, replacing a client one', () => {
    const out = build({ via: '1.0 edge', 'x-request-id': 'client-chosen' });
    assert.equal(out['via'], '1.0 edge, 1.1 portcullis');
    assert.equal(out['x-request-id'], 'req-1');
    assert.equal(build({})['via'], '1.1 portcullis');
  });
});

describe('filterResponseHeaders', () => {
  it('drops hop-by-hop response headers and those the upstream Connection header names', () => {
    const out = filterResponseHeaders({
      Connection: 'close, X-Upstream-Hop',
      'x-upstream-hop': '1',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      upgrade: 'websocket',
      trailer: 'x-checksum',
      'proxy-connection': 'close',
      te: 'trailers',
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
      server: 'upstream/1.0',
      missing: undefined,
    });
    assert.deepEqual(out, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], server: 'upstream/1.0' });
  });
});
