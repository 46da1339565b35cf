import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTemplate } from './template.js';

function render(text: string, env: Record<string, string | undefined> = {}): string {
  const result = renderTemplate(text, env);
  if (!result.ok) assert.fail(`unexpected errors: ${JSON.stringify(result.errors)}`);
  return result.text;
}

function errorsOf(text: string, env: Record<string, string | undefined> = {}) {
  const result = renderTemplate(text, env);
  assert.equal(result.ok, false, 'expected the template to fail');
  return result.ok ? [] : result.errors;
}

describe('renderTemplate', () => {
  it('leaves text without actions untouched, including lone $ and {{', () => {
    const text = 'a: "$HOME {{ x }} ${ y }"\nb: 1\n';
    assert.equal(render(text), text);
  });

  it('substitutes env "DECK_…" inside quotes, as the tutorial writes it', () => {
    const text = 'issuer: "${{ env "DECK_ISSUER" }}"';
    assert.equal(render(text, { DECK_ISSUER: 'https://kc:9443/realms/master' }), 'issuer: "https://kc:9443/realms/master"');
  });

  it('refuses a variable without the DECK_ prefix with decK\'s message', () => {
    assert.deepEqual(errorsOf('a: ${{ env "HOME" }}', { HOME: '/root' }), [
      { path: 'line 1, column 4', message: "environment variables in the state file must be prefixed with 'DECK_', found: 'HOME'" },
    ]);
  });

  it('names an unset variable, and reports every unset variable with its line', () => {
    const text = 'a: 1\nb: ${{ env "DECK_B" }}\nc: ${{ env "DECK_SET" }}\nd:   ${{ env "DECK_D" }}\n';
    assert.deepEqual(errorsOf(text, { DECK_SET: 'x' }), [
      { path: 'line 2, column 4', message: "environment variable 'DECK_B' present in state file but not set" },
      { path: 'line 4, column 6', message: "environment variable 'DECK_D' present in state file but not set" },
    ]);
  });

  it('treats an empty variable as set', () => {
    assert.equal(render('a: "${{ env "DECK_EMPTY" }}"', { DECK_EMPTY: '' }), 'a: ""');
  });

  it('converts with toBool, toInt and toFloat the way Go prints them', () => {
    const env = { DECK_B: 'True', DECK_I: '+0080', DECK_F: '2.50', DECK_BIG: '1000000', DECK_SMALL: '0.00001' };
    assert.equal(render('${{ env "DECK_B" | toBool }}', env), 'true');
    assert.equal(render('${{ env "DECK_I" | toInt }}', env), '80');
    assert.equal(render('${{ env "DECK_F" | toFloat }}', env), '2.5');
    assert.equal(render('${{ env "DECK_BIG" | toFloat }}', env), '1e+06');
    assert.equal(render('${{ env "DECK_SMALL" | toFloat }}', env), '1e-05');
  });

  it('refuses values the conversions cannot parse, naming the value', () => {
    const env = { DECK_B: 'yes', DECK_I: '8.5', DECK_F: 'fast' };
    assert.deepEqual(errorsOf('${{ env "DECK_B" | toBool }}', env)[0]?.message, 'toBool: cannot parse "yes" as a boolean (use true or false)');
    assert.deepEqual(errorsOf('${{ env "DECK_I" | toInt }}', env)[0]?.message, 'toInt: cannot parse "8.5" as an integer');
    assert.deepEqual(errorsOf('${{ env "DECK_F" | toFloat }}', env)[0]?.message, 'toFloat: cannot parse "fast" as a number');
  });

  it('indents every line after the first with indent N, piped or called', () => {
    const env = { DECK_PEM: 'line1\nline2\nline3' };
    const expected = 'cert: |\n  line1\n  line2\n  line3';
    assert.equal(render('cert: |\n  ${{ env "DECK_PEM" | indent 2 }}', env), expected);
    assert.equal(render('cert: |\n  ${{ indent 2 (env "DECK_PEM") }}', env), expected);
  });

  it('honours trim markers and comments', () => {
    assert.equal(render('a:   ${{- "x" -}}   \nb', {}), 'a:xb');
    assert.equal(render('a: 1${{/* a comment */}}\n'), 'a: 1\n');
  });

  it('reports the line of an unclosed action', () => {
    assert.deepEqual(errorsOf('a: 1\nb: ${{ env "DECK_X"\n'), [{ path: 'line 2, column 4', message: 'unclosed action: missing "}}"' }]);
  });

  it('refuses unknown functions and control structures clearly', () => {
    assert.equal(errorsOf('${{ upper "x" }}')[0]?.message, 'function "upper" not defined');
    assert.equal(errorsOf('${{ if true }}x${{ end }}')[0]?.message, "'if' actions are not supported in templates");
    assert.match(errorsOf('${{ .Values.x }}')[0]?.message ?? '', /variables and fields are not supported/);
  });

  it('refuses, as errors and never as exceptions, what once escaped as a RangeError or SyntaxError', () => {
    // Found by test/fuzz/templating.fuzz.test.ts: these threw out of renderTemplate (and loadConfig).
    assert.deepEqual(errorsOf('${{ "\\UFFFFFFFF" }}'), [{ path: 'line 1, column 1', message: 'invalid escape \\UFFFFFFFF in string' }]);
    assert.equal(errorsOf('${{ "\\U00110000" }}')[0]?.message, 'invalid escape \\U00110000 in string');
    assert.equal(errorsOf('${{ "\\ud800" }}')[0]?.message, 'invalid escape \\ud800 in string');
    assert.equal(render('${{ "\\U0001F600" }}'), '\u{1f600}');
    for (const n of ['0x_', '0b_', '0o_', '-0X__']) assert.equal(errorsOf(`\${{ ${n} }}`)[0]?.message, `bad number syntax: "${n}"`);
    assert.equal(render('${{ 0x_1F }}'), '31');
    assert.equal(errorsOf(`\${{ ${'('.repeat(20000)} }}`)[0]?.message, 'max expression depth exceeded');
    assert.equal(render(`\${{ ${'('.repeat(100)}"x"${')'.repeat(100)} }}`), 'x');
  });

  it('checks argument types as Go does', () => {
    assert.equal(errorsOf('${{ env "DECK_X" | toBool | toInt }}', { DECK_X: 'true' })[0]?.message, 'wrong type for value; expected string; got bool');
  });
});
