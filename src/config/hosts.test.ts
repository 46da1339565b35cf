import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRouteHost, checkSni, checkUpstreamHost } from './hosts.js';

describe('host checks', () => {
  it('accept upstream host names and IP addresses', () => {
    for (const host of ['httpbin.konghq.com', 'localhost', '10.0.0.1', '::1', '[::1]', 'my_host.internal']) {
      assert.equal(checkUpstreamHost(host), null, host);
    }
    assert.equal(checkUpstreamHost('bad host'), 'must be a valid host name or IP address');
    assert.equal(checkUpstreamHost('-a.example'), 'must be a valid host name or IP address');
  });

  it('accept one leading or trailing wildcard and a port in route hosts', () => {
    for (const host of ['*.example.com', 'example.*', 'example.com:8000', '*.example.com:8443', '[::1]:80', '127.0.0.1']) {
      assert.equal(checkRouteHost(host), null, host);
    }
    assert.equal(checkRouteHost('a.*.example'), 'invalid wildcard: must be placed at leftmost or rightmost label');
    assert.equal(checkRouteHost('*.example.*'), 'invalid wildcard: must have at most one wildcard');
    assert.equal(checkRouteHost('*example.com'), 'invalid wildcard: must be placed at leftmost or rightmost label');
    assert.equal(checkRouteHost('example.com:0'), 'invalid port number');
  });

  it('accept SNIs without port or IP, and * only for certificates', () => {
    assert.equal(checkSni('*.example.com', false), null);
    assert.equal(checkSni('*', true), null);
    assert.equal(checkSni('*', false), "'*' is only allowed in certificate snis");
    assert.equal(checkSni('10.1.1.1', true), 'must not be an IP address');
    assert.equal(checkSni('example.com:443', true), 'must not have a port');
  });
});
