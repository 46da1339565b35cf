import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xxhash32, xxhash32String } from './xxhash32.js';

// Expected values from the reference implementation: `printf '%s' "$s" | xxhsum -H0` (xxHash 0.8.1),
// and the same from Kong's own `luaxxhash` (szensk/luaxxhash 1.0.0) run under LuaJIT 2.1; the first
// six are also in luaxxhash's test.lua and xxHash's own sanity checks.
const VECTORS: [string, number][] = [
  ['', 0x02cc5d05],
  ['a', 0x550d7456],
  ['abc', 0x32d153ff],
  ['Cats are interesting.', 0x65ed1afc],
  ['a'.repeat(32), 0xa3234fbe],
  ['a'.repeat(37), 0x3f87545b],
  ['0123456789abcdef', 0xc2c45b69], // one 16-byte stripe, no tail
  ['0123456789abcdefg', 0xcc79b217], // one stripe and a 1-byte tail
  ['10.0.0.1::8000 1', 0x5bcfc2d6], // a ring point, as Kong names it
  ['[::1]::8080 160', 0xf8b37823],
  ['héllo wörld ✓ 🚀', 0x386d5724], // UTF-8: 2-, 3- and 4-byte sequences
];

describe('xxhash32', () => {
  it('matches the reference XXH32 with seed 0', () => {
    for (const [input, expected] of VECTORS) {
      assert.equal(xxhash32String(input), expected, JSON.stringify(input));
      assert.equal(xxhash32(Buffer.from(input, 'utf8')), expected, JSON.stringify(input));
    }
  });

  it('takes a seed, and a length shorter than the buffer', () => {
    assert.equal(xxhash32(Buffer.from('abc'), 3, 0x5bd1e995), 0xbddeb201); // luaxxhash's seeded case
    assert.equal(xxhash32(Buffer.from('abcdef'), 3), 0x32d153ff);
  });

  it('returns an unsigned 32-bit integer', () => {
    for (let i = 0; i < 1000; i++) {
      const h = xxhash32String(`key-${i}`);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
    }
  });

  it('hashes long strings (the scratch buffer grows) and lone surrogates as U+FFFD', () => {
    const long = 'x✓'.repeat(1000);
    assert.equal(xxhash32String(long), xxhash32(Buffer.from(long, 'utf8')));
    assert.equal(xxhash32String('a\ud800b'), xxhash32(Buffer.from('a\ufffdb', 'utf8')));
    assert.equal(xxhash32String('\udc00'), xxhash32(Buffer.from('\ufffd', 'utf8')));
  });
});
