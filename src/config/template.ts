/**
 * decK's templating, applied to the raw text before it is parsed: `${{ env "DECK_NAME" }}` with the
 * pipes `toBool`, `toInt`, `toFloat` and `indent`. It runs on text (not on the parsed tree) because
 * that is what decK does: `${{ env "DECK_PORT" | toInt }}` must become a YAML number.
 *
 * Unlike Go's text/template, which stops at the first failure, every action is evaluated so that all
 * unset variables are reported in one go. The environment is passed in; nothing reads process.env.
 */
import { ErrorList } from './errors.js';
import { deckFunctions, printValue, TemplateError } from './template-functions.js';
import { evaluateAction } from './template-pipeline.js';
import type { ConfigError } from './types.js';

const OPEN = '${{';
const CLOSE = '}}';
const TRIM_SPACE = /[ \t\r\n]/;

export type RenderResult = { ok: true; text: string } | { ok: false; errors: ConfigError[] };

/** Where an action starts, as people count: 1-based line and column. */
function positionOf(text: string, index: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return `line ${line}, column ${index - lineStart + 1}`;
}

/** Index of the `}}` closing the action whose body starts at `from`, skipping quoted strings. */
function findClose(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '"') {
      i += 1;
      while (i < text.length && text.charAt(i) !== '"' && text.charAt(i) !== '\n') i += text.charAt(i) === '\\' ? 2 : 1;
      i += 1;
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === '/' && text.charAt(i + 1) === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return -1;
      i = end + 2;
    } else if (text.startsWith(CLOSE, i)) {
      return i;
    } else {
      i += 1;
    }
  }
  return -1;
}

/** Renders decK's `${{ … }}` actions; text without actions comes back unchanged. */
export function renderTemplate(text: string, env: Readonly<Record<string, string | undefined>>): RenderResult {
  const functions = deckFunctions(env);
  const errors = new ErrorList();
  let out = '';
  let cursor = 0;
  for (let start = text.indexOf(OPEN); start >= 0; start = text.indexOf(OPEN, cursor)) {
    out += text.slice(cursor, start);
    let bodyStart = start + OPEN.length;
    // `${{- ` trims the whitespace before the action, as in Go.
    if (text.charAt(bodyStart) === '-' && TRIM_SPACE.test(text.charAt(bodyStart + 1))) {
      out = out.replace(/[ \t\r\n]+$/, '');
      bodyStart += 1;
    }
    const close = findClose(text, bodyStart);
    if (close < 0) {
      errors.add(positionOf(text, start), 'unclosed action: missing "}}"');
      return { ok: false, errors: errors.toArray() };
    }
    let body = text.slice(bodyStart, close);
    cursor = close + CLOSE.length;
    // ` -}}` trims the whitespace after it.
    const trimAfter = /[ \t\r\n]-$/.test(body);
    if (trimAfter) {
      body = body.slice(0, -1);
      while (cursor < text.length && TRIM_SPACE.test(text.charAt(cursor))) cursor += 1;
    }
    const trimmed = body.trim();
    if (trimmed.startsWith('/*') && trimmed.endsWith('*/')) continue;
    try {
      out += printValue(evaluateAction(body, functions));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      errors.add(positionOf(text, start), error.message);
    }
  }
  out += text.slice(cursor);
  return errors.size > 0 ? { ok: false, errors: errors.toArray() } : { ok: true, text: out };
}
