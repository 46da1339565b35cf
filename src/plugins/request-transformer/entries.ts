/**
 * Kong's "name:value" config entries (request-transformer's schema.lua and access.lua): the name is
 * everything before the first colon, then every colon is skipped (`^([^:]+):*(.-)$`), and the rest
 * is the value, a template.
 */
import { compileTemplate, type Template } from './template.js';

/** One entry, compiled: its name and its value (null when the entry has none). */
export interface Entry {
  readonly name: string;
  readonly value: Template | null;
}

const entryPattern = /^([^:]+):*(.*)$/s;

/** The name and raw value of `entry` as Kong's pattern splits it; null when it has no name. */
export function splitEntry(entry: string): { name: string; value: string } | null {
  const m = entryPattern.exec(entry);
  return m === null ? null : { name: m[1]!, value: m[2]! };
}

/** Kong's validate_header_name: letters, digits, `_` and `-`. */
export function isValidHeaderName(name: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(name);
}

/** Compiles a validated entry (schema.ts refused anything else at load). */
export function compileEntry(entry: string): Entry {
  const split = splitEntry(entry);
  if (split === null) return { name: entry, value: null };
  if (split.value === '') return { name: split.name, value: null };
  const template = compileTemplate(split.value);
  if ('error' in template) throw new TypeError(template.error);
  return { name: split.name, value: template };
}
