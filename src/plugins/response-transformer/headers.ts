/**
 * Kong's header_transformer.transform_headers on the response head: remove → rename → replace
 * (only what the upstream sent) → add (only what it did not) → append (another value). Kong tests
 * presence against the headers as they were before any change, so this does too.
 */
import type { HeaderMap } from '../../pipeline/context.js';
import { splitEntry } from '../request-transformer/entries.js';

interface HeaderEntry {
  readonly name: string;
  /** null: the entry has no value (Kong skips it). */
  readonly value: string | null;
}

export interface HeaderOperations {
  readonly remove: readonly string[];
  readonly rename: readonly HeaderEntry[];
  readonly replace: readonly HeaderEntry[];
  readonly add: readonly HeaderEntry[];
  readonly append: readonly HeaderEntry[];
}

const entriesOf = (list: readonly string[]): HeaderEntry[] =>
  list.map((entry) => {
    const split = splitEntry(entry);
    return { name: (split?.name ?? entry).toLowerCase(), value: split === null || split.value === '' ? null : split.value };
  });

export function compileHeaderOperations(config: { remove: { headers: string[] }; rename: { headers: string[] }; replace: { headers: string[] }; add: { headers: string[] }; append: { headers: string[] } }): HeaderOperations {
  return {
    remove: config.remove.headers.map((entry) => (splitEntry(entry)?.name ?? entry).toLowerCase()),
    rename: entriesOf(config.rename.headers).map((e) => ({ name: e.name, value: e.value?.toLowerCase() ?? null })),
    replace: entriesOf(config.replace.headers),
    add: entriesOf(config.add.headers),
    append: entriesOf(config.append.headers),
  };
}

export function transformResponseHeaders(headers: HeaderMap, ops: HeaderOperations): void {
  const before = { ...headers };
  for (const name of ops.remove) delete headers[name];
  for (const { name, value } of ops.rename) {
    if (value === null || before[name] === undefined) continue;
    // Kong sets the new name, then clears the old one (a rename to the same name removes it there too).
    headers[value] = before[name];
    delete headers[name];
  }
  for (const { name, value } of ops.replace) if (value !== null && before[name] !== undefined) headers[name] = value;
  for (const { name, value } of ops.add) if (value !== null && before[name] === undefined) headers[name] = value;
  for (const { name, value } of ops.append) {
    if (value === null) continue;
    const current = headers[name];
    headers[name] = current === undefined ? value : [...(Array.isArray(current) ? current : [current]), value];
  }
}
