import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileAddressSet } from './trusted-addresses.js';

describe('compileAddressSet', () => {
  it('matches single addresses and CIDR blocks of both families', () => {
    const set = compileAddressSet(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']);
    assert.equal(set.has('10.200.3.4'), true);
    assert.equal(set.has('11.0.0.1'), false);
    assert.equal(set.has('192.168.1.7'), true);
    assert.equal(set.has('192.168.1.8'), false);
    assert.equal(set.has('2001:db8:0:0::1'), true);
    assert.equal(set.has('2001:db9::1'), false);
  });

  it('treats an IPv4-mapped IPv6 peer as its IPv4 address', () => {
    const set = compileAddressSet(['127.0.0.1']);
    assert.equal(set.has('::ffff:127.0.0.1'), true);
  });

  it('trusts nobody when empty, and nothing that is not an address', () => {
    const set = compileAddressSet([]);
    assert.equal(set.empty, true);
    assert.equal(set.has('127.0.0.1'), false);
    assert.equal(compileAddressSet(['0.0.0.0/0']).has('not-an-ip'), false);
  });

  it('refuses malformed entries with the option name', () => {
    assert.throws(() => compileAddressSet(['10.0.0.0/33']), /trusted-ips: '10.0.0.0\/33' has an invalid prefix length/);
    assert.throws(() => compileAddressSet(['example.com']), /not an IP address/);
    assert.throws(() => compileAddressSet(['10.0.0.0/']), /invalid prefix/);
  });
});
