// Property-based tests of decK templating (src/config/template.ts): `${{ env "DECK_X" }}` with pipes.
// Any text and any environment give a result, never an exception; text without an action comes back
// unchanged; every unset variable is reported by name with its position; set ones are substituted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { renderTemplate, type RenderResult } from '../../src/config/index.js';

const RUNS = 1000;

function checkShape(result: RenderResult): void {
  if (result.ok) {
    assert.equal(typeof result.text, 'string');
    return;
  }
  assert.ok(Array.isArray(result.errors) && result.errors.length > 0, 'a refusal lists its errors');
  for (const error of result.errors) {
    assert.equal(typeof error.path, 'string');
    assert.equal(typeof error.message, 'string');
    assert.notEqual(error.message, '');
  }
}

const varName = fc.oneof(fc.constantFrom('DECK_A', 'DECK_B', 'DECK_PORT', 'DECK_', 'HOME', 'deck_a', 'DECK_A\\"'), fc.stringMatching(/^DECK_[A-Z0-9_]{0,6}$/));
const envValue = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', 'true', 'True', '0', '+0080', '-1', '9223372036854775808', '1e6', '2.50', 'NaN', 'inf', 'x\ny', '}}', '${{'));
const env = fc.dictionary(varName, fc.option(envValue, { nil: undefined }), { maxKeys: 4 });

/** The vocabulary of actions, glued together at random: mostly broken, sometimes well-formed. */
const fragment = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '${{', '}}', '${{ ', ' }}', '${{- ', ' -}}', 'env', ' env ', '"', '`', '|', ' | ', '(', ')', '-', ' ', '\n', '\t', '/*', '*/', '\\',
      '\\x4', '\\x41', '\\u00e9', '\\U0001F600', '\\UFFFFFFFF', '\\U00110000', '\\ud800', '\\777', '\\q', '$', '.', '$x', '.Values',
      'if', 'end', 'range', 'toBool', 'toInt', 'toFloat', 'indent', 'indent 2', 'indent -3', 'indent 4.0', 'indent 1e3', 'nope',
      '0x', '0x_', '0b_', '0o_', '0x1F', '0_1', '1_000', '1e999', '-.5', '+', '1.2.3', '9223372036854775808', 'true', 'false', '"DECK_A"', '"DECK_B"', '"HOME"', '``',
    ),
  },
  { weight: 2, arbitrary: varName.map((n) => `"${n}"`) },
  { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
);
/** An action's inside: words of the pipeline language (literals, escapes, numbers, functions, pipes). */
const escape = fc.constantFrom('\\x4', '\\x41', '\\u00e9', '\\ud800', '\\U0001F600', '\\UFFFFFFFF', '\\U00110000', '\\777', '\\101', '\\q', '\\"', '\\n');
const quoted = fc.array(fc.oneof(escape, fc.string({ maxLength: 3 }).map((t) => t.replace(/["\\\n]/g, ''))), { maxLength: 3 }).map((p) => `"${p.join('')}"`);
const number = fc.oneof(
  fc.constantFrom('0x', '0x_', '0b_', '0o_', '0X__', '0x1F', '0b101', '0o17', '0_1', '1_000', '1__0', '1e999', '-1e999', '-.5', '.5', '1.', '1.2.3', '0xg', '9223372036854775808', '-9223372036854775809', '1e', '+_'),
  fc.stringMatching(/^[+-]?(0[xXbBoO])?[0-9a-fA-F_.eE+-]{0,6}$/),
);
const word = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('env', 'toBool', 'toInt', 'toFloat', 'indent', 'nope', '|', '(', ')', 'true', 'false', 'if', '$x', '.Values', '/* c */', '`raw`', '`', '"') },
  { weight: 2, arbitrary: varName.map((n) => `"${n}"`) },
  { weight: 2, arbitrary: quoted },
  { weight: 2, arbitrary: number },
);
const action = fc.tuple(fc.constantFrom('${{ ', '${{- ', '${{'), fc.array(word, { minLength: 1, maxLength: 6 }), fc.constantFrom(' }}', ' -}}', '}}')).map(
  ([open, words, close]) => `${open}${words.join(' ')}${close}`,
);
const templateText = fc.array(fc.oneof({ weight: 3, arbitrary: fragment }, { weight: 1, arbitrary: action }), { maxLength: 12 }).map((parts) => parts.join(''));

describe('fuzz: renderTemplate', () => {
  it('never throws on arbitrary text, and refuses only with { path, message } errors', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), templateText), env, (text, e) => checkShape(renderTemplate(text, e))),
      { numRuns: RUNS },
    );
  });

  it('never throws on deeply nested or very long actions', () => {
    const deep = fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 }), fc.constantFrom('"x"', 'env "DECK_A"', '', '|', 'indent 2')).map(
      ([open, close, inner]) => `a: \${{ ${'('.repeat(open)}${inner}${')'.repeat(close)} }}`,
    );
    fc.assert(
      fc.property(deep, env, (text, e) => checkShape(renderTemplate(text, e))),
      { numRuns: 200 },
    );
  });

  it('gives text without "${{" back unchanged, whatever the environment', () => {
    const noAction = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), templateText).filter((t) => !t.includes('${{'));
    fc.assert(
      fc.property(noAction, env, (text, e) => {
        assert.deepEqual(renderTemplate(text, e), { ok: true, text });
      }),
      { numRuns: RUNS },
    );
  });

  it('substitutes set variables and names every unset one with its line and column', () => {
    // Text between actions never contains "${{"; variable names are plain DECK_ names.
    const literal = fc.string({ maxLength: 8 }).filter((t) => !t.includes('${{') && !t.endsWith('$') && !t.startsWith('{'));
    const name = fc.stringMatching(/^DECK_[A-Z]{1,3}$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(literal, name), { maxLength: 6 }),
        literal,
        fc.dictionary(name, fc.string({ maxLength: 10 }), { maxKeys: 4 }),
        (pieces, tail, e) => {
          let text = '';
          let expected = '';
          const unset: Array<{ path: string; message: string }> = [];
          for (const [before, variable] of pieces) {
            text += before;
            expected += before;
            const lines = text.split('\n');
            const path = `line ${lines.length}, column ${(lines.at(-1) ?? '').length + 1}`;
            text += `\${{ env "${variable}" }}`;
            const value = Object.hasOwn(e, variable) ? e[variable] : undefined;
            if (value === undefined) unset.push({ path, message: `environment variable '${variable}' present in state file but not set` });
            else expected += value;
          }
          text += tail;
          expected += tail;
          const result = renderTemplate(text, e);
          // The same variable unset twice at one position cannot happen; at two positions it is two errors.
          if (unset.length === 0) assert.deepEqual(result, { ok: true, text: expected });
          else assert.deepEqual(result, { ok: false, errors: unset });
        },
      ),
      { numRuns: RUNS },
    );
  });
});
