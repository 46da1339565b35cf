import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { compileJsonOperations, transformJson } from './json-body.js';
import { responseTransformerConfig, type ResponseTransformerConfig } from './schema.js';

const configOf = (partial: unknown): ResponseTransformerConfig => Value.Default(responseTransformerConfig, structuredClone(partial)) as ResponseTransformerConfig;
const run = (partial: unknown, body: unknown): unknown => {
  const ops = compileJsonOperations(configOf(partial));
  assert.ok(ops !== null);
  const out = transformJson(Buffer.from(JSON.stringify(body)), ops);
  return out === null ? null : JSON.parse(out.toString('utf8'));
};

describe('response-transformer JSON edits', () => {
  it('cast values by json_types as Kong: Lua tonumber, "true" for booleans, an entry that is no number does nothing', () => {
    const out = run({ add: { json: ['n:12.5', 'h:0x10', 'b:true', 'f:yes', 'bad:abc', 's:12'], json_types: ['number', 'number', 'boolean', 'boolean', 'number'] } }, {});
    assert.deepEqual(out, { n: 12.5, h: 16, b: true, f: false, s: '12' });
  });

  it('keep Kong’s json_value escaping: quotes unescaped, a backslash still escaped', () => {
    assert.deepEqual(run({ add: { json: ['q:say "hi"', 'p:a\\b'] } }, {}), { q: 'say "hi"', p: 'a\\\\b' });
  });

  it('rename any present member (false too), the same name removes it as on Kong', () => {
    assert.deepEqual(run({ rename: { json: ['a:b', 'c:c'] } }, { a: false, c: 1 }), { b: false });
  });

  it('leave a body that is no JSON object', () => {
    const ops = compileJsonOperations(configOf({ remove: { json: ['a'] } }))!;
    assert.equal(transformJson(Buffer.from('[1]'), ops), null);
    assert.equal(transformJson(Buffer.from('"a"'), ops), null);
    assert.equal(transformJson(Buffer.from('{'), ops), null);
  });

  it('compile to nothing without json edits (headers only: no body is buffered)', () => {
    assert.equal(compileJsonOperations(configOf({ add: { headers: ['x:1'] } })), null);
  });
});
