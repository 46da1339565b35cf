/**
 * Text to a plain value. YAML 1.2 (core schema) covers JSON too, so one parser reads both. YAML 1.2
 * rather than decK's 1.1 keeps `no`, `on` and `0755` from silently changing type in string fields;
 * the 1.1 booleans are accepted later, in boolean fields only (see `leniency.ts`).
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import type { ConfigError } from './types.js';

export type ParseResult = { ok: true; value: unknown } | { ok: false; errors: ConfigError[] };

function at(lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset);
  return `line ${line}, column ${col}`;
}

/** Parses one YAML or JSON document; several documents (`---`) or syntax errors are refused. */
export function parseConfigText(text: string): ParseResult {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, {
    version: '1.2',
    schema: 'core',
    // decK files written by hand use anchors with `<<` merges; YAML 1.2 dropped them, go-yaml kept them.
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter: lines,
  });
  const documents = Array.isArray(parsed) ? parsed : [];
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
