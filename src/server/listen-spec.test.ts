import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAddress, parseListen } from './listen-spec.js';

describe('parseListen', () => {
  it("reads Kong's default proxy_listen", () => {
    assert.deepEqual(parseListen('0.0.0.0:8000, 0.0.0.0:8443 ssl', 'proxy-listen'), [
      { host: '0.0.0.0', port: 8000, ssl: false, http2: false, backlog: undefined },
      { host: '0.0.0.0', port: 8443, ssl: true, http2: false, backlog: undefined },
    ]);
  });

  it('reads IPv6 addresses in brackets and flags with values', () => {
    assert.deepEqual(parseListen('[::1]:8444 http2 ssl backlog=511', 'x'), [
      { host: '::1', port: 8444, ssl: true, http2: true, backlog: 511 },
    ]);
  });

  it('treats off as no listener', () => {
    assert.deepEqual(parseListen('off', 'admin-listen'), []);
  });

  it('refuses unknown flags and malformed addresses, naming the setting', () => {
    assert.throws(() => parseListen('0.0.0.0:8000 sssl', 'proxy-listen'), /proxy-listen: unknown listen flag 'sssl'/);
    assert.throws(() => parseListen('8000', 'proxy-listen'), /proxy-listen: '8000' is not ADDRESS:PORT/);
    assert.throws(() => parseListen('127.0.0.1:70000', 'admin-listen'), /out of range/);
  });

  it('formats IPv6 addresses in brackets', () => {
    assert.equal(formatAddress('::1', 8001), '[::1]:8001');
    assert.equal(formatAddress('127.0.0.1', 8001), '127.0.0.1:8001');
  });
});
