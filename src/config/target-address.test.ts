import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTargetAddress, isValidUpstreamName, parseTargetAddress } from './target-address.js';

const LOOPBACK = '0000:0000:0000:0000:0000:0000:0000:0001';

describe('parseTargetAddress', () => {
  it('reads IPv4 with and without a port, dropping leading zeros (Kong spec/01-unit/05-utils_spec.lua)', () => {
    assert.deepEqual(parseTargetAddress('123.123.123.123'), { host: '123.123.123.123', port: null, kind: 'ipv4' });
    assert.deepEqual(parseTargetAddress('1.2.3.4:80'), { host: '1.2.3.4', port: 80, kind: 'ipv4' });
    assert.deepEqual(parseTargetAddress('001.001.001.001:00080'), { host: '1.1.1.1', port: 80, kind: 'ipv4' });
  });

  it('refuses what is IPv4 by its characters but not a valid one', () => {
    for (const text of ['123.123:80', '123.123.123.999', '1.2.3.400', '123.123.123.123.123:80', '1.2.3', '123', '1.2.3.4:', '1.2.3.4:8x0', '0001.2.3.4']) {
      assert.equal(parseTargetAddress(text), null, text);
    }
  });

  it('reads IPv6 bare, in brackets and in brackets with a port, fully expanded in lower case', () => {
    assert.deepEqual(parseTargetAddress('::1'), { host: LOOPBACK, port: null, kind: 'ipv6' });
    assert.deepEqual(parseTargetAddress('[::1]'), { host: LOOPBACK, port: null, kind: 'ipv6' });
    assert.deepEqual(parseTargetAddress('[::1]:80'), { host: LOOPBACK, port: 80, kind: 'ipv6' });
    assert.deepEqual(parseTargetAddress(`[${LOOPBACK}]:80`), { host: LOOPBACK, port: 80, kind: 'ipv6' });
    assert.equal(parseTargetAddress('FE80::A:b')?.host, 'fe80:0000:0000:0000:0000:0000:000a:000b');
    assert.equal(parseTargetAddress('::')?.host, '0000:0000:0000:0000:0000:0000:0000:0000');
    assert.equal(parseTargetAddress('1::')?.host, '0001:0000:0000:0000:0000:0000:0000:0000');
    assert.equal(parseTargetAddress('1:2:3:4:5:6:7::')?.host, '0001:0002:0003:0004:0005:0006:0007:0000');
  });

  it('gives a bare IPv6 address no port: its last group is a group', () => {
    assert.deepEqual(parseTargetAddress('1:2:3:4:5:6:7:8'), { host: '0001:0002:0003:0004:0005:0006:0007:0008', port: null, kind: 'ipv6' });
    assert.equal(parseTargetAddress('::1:80')?.port, null);
  });

  it("keeps Kong's leniency: a single colon at either end is a zero group", () => {
    assert.equal(parseTargetAddress(':1:2:3:4:5:6:7')?.host, '0000:0001:0002:0003:0004:0005:0006:0007');
    assert.equal(parseTargetAddress('1:2:3:4:5:6:7:')?.host, '0001:0002:0003:0004:0005:0006:0007:0000');
  });

  it('refuses malformed IPv6', () => {
    for (const text of [
      '::x', '[::x]:80', '[::1]:80a', '[::1]:8x0', ':x:1', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8',
      '12345::1', '::ffff:1.2.3.4', 'fe80::1%eth0', '[::1', '::1]', '[::1]80', '[::1]:', '[[::1]]', '[]:80', '[1.2.3.4]',
    ]) {
      assert.equal(parseTargetAddress(text), null, text);
    }
  });

  it('reads names as written, with an optional port (the valid names of Kong spec)', () => {
    const valid = [
      'hello.com', 'test.hello.com', '1991.io', 'hello.COM', 'HELLO.com', '123helloWORLD.com', 'example.123', 'example-api.com', 'example_api.com',
      'localhost', 'example.', '3B-ww4c5e180e575a65lsy2b', '-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n', 'Hello-Another-Way--fc4qua05auwb3674vfr0b',
    ];
    for (const name of valid) {
      assert.deepEqual(parseTargetAddress(name), { host: name, port: null, kind: 'name' }, name);
      assert.deepEqual(parseTargetAddress(`${name}:80`), { host: name, port: 80, kind: 'name' }, name);
      assert.equal(parseTargetAddress(`${name}:xx`), null, name);
      assert.equal(parseTargetAddress(`${name}:99999`), null, name);
    }
  });

  it('refuses the invalid names of Kong spec, with or without a port', () => {
    const invalid = ['/example', '.example', 'exam;ple', 'example.com/org', 'example-.org', 'example.org-', 'hello..example.com', 'hello-.example.com', 'mashape..test', 'm a s h a p e.test', '', '.', 'exämple.com', 'host:', 'host:abc'];
    for (const name of invalid) {
      assert.equal(parseTargetAddress(name), null, name);
      assert.equal(parseTargetAddress(`${name}:80`), null, `${name}:80`);
    }
  });

  it('takes ports 1 to 65535, leading zeros allowed, and refuses 0 (Kong would take 0)', () => {
    assert.equal(parseTargetAddress('a:1')?.port, 1);
    assert.equal(parseTargetAddress('a:65535')?.port, 65535);
    assert.equal(parseTargetAddress('a:000443')?.port, 443);
    for (const text of ['a:0', 'a:65536', '1.2.3.4:0', '1.2.3.4:65536', '[::1]:0', '[::1]:65536', 'a:99999999999999999999999']) {
      assert.equal(parseTargetAddress(text), null, text);
    }
  });
});

describe('formatTargetAddress', () => {
  it("gives Kong's stored form, port 8000 when none is written", () => {
    assert.equal(formatTargetAddress('mashape.test'), 'mashape.test:8000');
    assert.equal(formatTargetAddress('Mashape.Test:80'), 'Mashape.Test:80');
    assert.equal(formatTargetAddress('001.002.003.004'), '1.2.3.4:8000');
    assert.equal(formatTargetAddress('1.2.3.4:123'), '1.2.3.4:123');
    assert.equal(formatTargetAddress('::1'), `[${LOOPBACK}]:8000`);
    assert.equal(formatTargetAddress('[::1]:80'), `[${LOOPBACK}]:80`);
  });

  it('takes another default port', () => {
    assert.equal(formatTargetAddress('example.com', 443), 'example.com:443');
    assert.equal(formatTargetAddress('example.com:80', 443), 'example.com:80');
  });

  it('gives null for an invalid target', () => {
    for (const text of ['//bad..name\\:123', '1.2.3.4.5', 'not ipv6...', 'a:0']) assert.equal(formatTargetAddress(text), null, text);
  });
});

describe('isValidUpstreamName', () => {
  it('accepts host names', () => {
    for (const name of ['my-upstream', 'example.com', 'example.', 'svc_1.internal']) assert.equal(isValidUpstreamName(name), null, name);
  });

  it("answers Kong's messages (spec/01-unit/01-db/01-schema/09-upstreams_spec.lua)", () => {
    assert.equal(isValidUpstreamName('123.123.123.123'), "Invalid name ('123.123.123.123'); no ip addresses allowed");
    assert.equal(isValidUpstreamName('\\\\bad\\\\////name////'), "Invalid name ('\\\\bad\\\\////name////'); must be a valid hostname");
    assert.equal(isValidUpstreamName('name:80'), "Invalid name ('name:80'); no port allowed");
    assert.equal(isValidUpstreamName('some invalid host name'), "Invalid name ('some invalid host name'); must be a valid hostname");
  });

  it('checks the kind before the port, as Kong', () => {
    assert.equal(isValidUpstreamName('1.2.3.4:80'), "Invalid name ('1.2.3.4:80'); no ip addresses allowed");
    assert.equal(isValidUpstreamName('[::1]:80'), "Invalid name ('[::1]:80'); no ip addresses allowed");
    assert.equal(isValidUpstreamName('::1'), "Invalid name ('::1'); no ip addresses allowed");
    assert.equal(isValidUpstreamName('name:99999'), "Invalid name ('name:99999'); must be a valid hostname");
  });

  it('does not quote a name that has no UTF-8 form', () => {
    assert.equal(isValidUpstreamName('bad\uD800name'), 'Invalid name; must be a valid hostname');
    assert.equal(isValidUpstreamName('caf\u00e9.example'), "Invalid name ('caf\u00e9.example'); must be a valid hostname");
    assert.equal(isValidUpstreamName('\u{1F600}'), "Invalid name ('\u{1F600}'); must be a valid hostname");
  });
});
