import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_NESTING_DEPTH, parseConfigText } from './parse.js';

describe('parseConfigText', () => {
  it('reads YAML with the 1.2 core schema: on/yes/no stay strings, numbers are numbers', () => {
    const result = parseConfigText('a: on\nb: no\nc: 0o17\nd: "3.0"\ne: true\n');
    assert.deepEqual(result, { ok: true, value: { a: 'on', b: 'no', c: 15, d: '3.0', e: true } });
  });

  it('reads JSON', () => {
    assert.deepEqual(parseConfigText('{"_format_version": "3.0", "services": []}'), {
      ok: true,
      value: { _format_version: '3.0', services: [] },
    });
  });

  it('resolves anchors and << merge keys, as go-yaml does for decK', () => {
    const result = parseConfigText('base: &b {retries: 3}\nsvc:\n  <<: *b\n  name: x\n');
    assert.deepEqual(result, { ok: true, value: { base: { retries: 3 }, svc: { retries: 3, name: 'x' } } });
  });

  it('reports syntax errors with line and column', () => {
    assert.deepEqual(parseConfigText('services:\n  - name: a\n x: 1\n'), {
      ok: false,
      errors: [{ path: 'line 3, column 1', message: 'All mapping items must start at the same column' }],
    });
  });

  it('refuses duplicate keys', () => {
    const result = parseConfigText('a: 1\na: 2\n');
    assert.equal(result.ok, false);
    assert.deepEqual(result.ok ? [] : result.errors.map((e) => e.path), ['line 2, column 1']);
  });

  it('refuses several documents, pointing at the second', () => {
    assert.deepEqual(parseConfigText('a: 1\n---\nb: 2\n'), {
      ok: false,
      errors: [{ path: 'line 2, column 1', message: 'a configuration must be a single YAML document, found 2' }],
    });
  });

  it('refuses collections nested deeper than MAX_NESTING_DEPTH before composing them', () => {
    // Found by test/fuzz/config.fuzz.test.ts: `[` x 1000 + `]` x 1000 (2 KB), parsed twice, aborted the
    // process (V8: "RegExpCompiler Allocation failed - process out of memory") once yaml's composer
    // had run into the stack limit.
    const flow = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(parseConfigText(flow(1000)), { ok: false, errors: [{ path: 'line 1, column 101', message: 'nested more than 100 levels deep' }] });
    }
    assert.equal(MAX_NESTING_DEPTH, 100);
    assert.equal(parseConfigText(flow(100)).ok, true);
    const block = (n: number): string => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
    assert.equal(parseConfigText(block(100)).ok, true);
    assert.deepEqual(parseConfigText(block(3000)), { ok: false, errors: [{ path: 'line 101, column 101', message: 'nested more than 100 levels deep' }] });
    assert.equal(parseConfigText(`a: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}`).ok, false);
  });

  it('refuses an empty file', () => {
    assert.deepEqual(parseConfigText('# nothing here\n'), { ok: false, errors: [{ path: '', message: 'the configuration is empty' }] });
  });
});
