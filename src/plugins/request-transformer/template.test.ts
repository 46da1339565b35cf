import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitEntry } from './entries.js';
import { decodeParams, encodeParams } from './params.js';
import { compileTemplate, renderTemplate, type Template } from './template.js';

const compiled = (value: string): Template => {
  const t = compileTemplate(value);
  if ('error' in t) throw new Error(t.error);
  return t;
};
const input = { headers: { 'x-a': 'A', 'x-list': ['one', 'two'] }, query: new URLSearchParams('q=1&q=2&e=') };

describe('request-transformer templates', () => {
  it('render header and query lookups, by dot or bracket, with a fallback, around literal text', () => {
    assert.equal(renderTemplate(compiled('pre-$(headers.x_a)-$(headers["X-A"])-$(query_params.q)-post'), input), 'pre-A-A-1-post');
    assert.equal(renderTemplate(compiled("$(headers.missing or 'dflt')|$(query_params['e'] or \"x\")"), input), 'dflt|');
    assert.equal(renderTemplate(compiled('$(headers.x_list)'), input), 'one', 'a repeated header renders its first value');
    assert.equal(renderTemplate(compiled('$(headers.none)'), input), '');
    assert.equal(renderTemplate(compiled('plain'), input), 'plain');
  });

  it('refuse any other Lua expression and an unbalanced one', () => {
    for (const value of ['$(uri_captures.user)', '$(shared.x)', '$(10 * query_params.q)', '$(type(headers.a))', '$(headers.a']) {
      assert.ok('error' in compileTemplate(value), value);
    }
  });
});

describe("request-transformer's Kong formats", () => {
  it('split name:value at the first colon and skip every colon after it', () => {
    assert.deepEqual(splitEntry('a:b:c'), { name: 'a', value: 'b:c' });
    assert.deepEqual(splitEntry('a::b'), { name: 'a', value: 'b' });
    assert.deepEqual(splitEntry('a'), { name: 'a', value: '' });
    assert.equal(splitEntry(':x'), null);
  });

  it('decode and encode parameters as ngx.decode_args / ngx.encode_args', () => {
    const params = decodeParams('a=1&a=2&flag&sp=x+y&enc=%21');
    assert.deepEqual([...params], [['a', ['1', '2']], ['flag', true], ['sp', 'x y'], ['enc', '!']]);
    assert.equal(encodeParams(params), 'a=1&a=2&flag&sp=x%20y&enc=%21');
  });
});
