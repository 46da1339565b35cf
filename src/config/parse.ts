/**
 * Text to a plain value. YAML 1.2 (core schema) covers JSON too, so one parser reads both. YAML 1.2
 * rather than decK's 1.1 keeps `no`, `on` and `0755` from silently changing type in string fields;
 * the 1.1 booleans are accepted later, in boolean fields only (see `leniency.ts`).
 */
import { Composer, LineCounter, Parser, type CST } from 'yaml';
import type { ConfigError } from './types.js';

export type ParseResult = { ok: true; value: unknown } | { ok: false; errors: ConfigError[] };

function at(lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset);
  return `line ${line}, column ${col}`;
}

/**
 * Deepest nesting of collections accepted. A decK file is about ten levels deep. yaml's composer
 * recurses once per level (its CST parser does not), and a document nested near the stack limit
 * (2 KB of `[`) does not just fail: V8 can then abort the whole process ("RegExpCompiler
 * Allocation failed - process out of memory"). So depth is checked on the CST, before composing.
 */
export const MAX_NESTING_DEPTH = 100;

/** Offset of the first collection nested deeper than MAX_NESTING_DEPTH, or -1; walks the CST without recursion. */
function tooDeepAt(tokens: readonly CST.Token[]): number {
  for (const token of tokens) {
    if (token.type !== 'document' || token.value === undefined) continue;
    const stack: Array<[CST.Token, number]> = [[token.value, 1]];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      const [node, depth] = next;
      if (node.type !== 'block-map' && node.type !== 'block-seq' && node.type !== 'flow-collection') continue;
      if (depth > MAX_NESTING_DEPTH) return node.offset;
      for (const item of node.items) {
        if (item.key !== undefined && item.key !== null) stack.push([item.key, depth + 1]);
        if (item.value !== undefined) stack.push([item.value, depth + 1]);
      }
    }
  }
  return -1;
}

/** Parses one YAML or JSON document; several documents (`---`) or syntax errors are refused. */
export function parseConfigText(text: string): ParseResult {
  const lines = new LineCounter();
  // What yaml's parseAllDocuments does (without prettyErrors), with the depth check between its two steps.
  const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
  const deep = tooDeepAt(tokens);
  if (deep >= 0) return { ok: false, errors: [{ path: at(lines, deep), message: `nested more than ${MAX_NESTING_DEPTH} levels deep` }] };
  const documents = Array.from(
    new Composer({
      version: '1.2',
      schema: 'core',
      // decK files written by hand use anchors with `<<` merges; YAML 1.2 dropped them, go-yaml kept them.
      merge: true,
      uniqueKeys: true,
    }).compose(tokens),
  );
  const errors: ConfigError[] = [];
  for (const doc of documents) {
    for (const e of doc.errors) {
      errors.push({ path: at(lines, e.pos[0]), message: e.message.split('\n')[0] ?? e.message });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const [first, second] = documents;
  if (second !== undefined) {
    const offset = second.range[0];
    return {
      ok: false,
      errors: [{ path: at(lines, offset), message: `a configuration must be a single YAML document, found ${documents.length}` }],
    };
  }
  if (first === undefined || first.contents === null) {
    return { ok: false, errors: [{ path: '', message: 'the configuration is empty' }] };
  }
  try {
    return { ok: true, value: first.toJS({ maxAliasCount: 1000 }) as unknown };
  } catch (error) {
    // Alias bombs and similar refusals from toJS.
    return { ok: false, errors: [{ path: '', message: error instanceof Error ? error.message : String(error) }] };
  }
}
