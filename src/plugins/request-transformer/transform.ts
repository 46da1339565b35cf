/**
 * Kong's request-transformer operations on one set of named values (headers, query parameters, a
 * form or JSON body), in Kong's order: remove → rename → replace (only what exists) → add (only
 * what is absent) → append (another value). Each kind of values says how it stores them.
 */
import type { Entry } from './entries.js';
import { appendValue } from './params.js';
import { renderTemplate, type TemplateInput } from './template.js';

/** The compiled entries of one field (`headers`, `querystring` or `body`) of each section. */
export interface Operations {
  readonly remove: readonly Entry[];
  readonly rename: readonly Entry[];
  readonly replace: readonly Entry[];
  readonly add: readonly Entry[];
  readonly append: readonly Entry[];
}

export function hasOperations(ops: Operations): boolean {
  return ops.remove.length + ops.rename.length + ops.replace.length + ops.add.length + ops.append.length > 0;
}

/** A set of named values as an operation sees it. `present` is Lua truthiness (JSON false is absent). */
export interface Values {
  present(name: string): boolean;
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  delete(name: string): void;
}

export interface ApplyOptions {
  /**
   * Whether remove, rename and replace run: Kong skips them on an empty body (they have nothing to
   * act on), while add and append still fill it.
   */
  readonly existing: boolean;
}

/**
 * Runs the operations; returns whether any ran (Kong re-encodes a body then, even when a removed
 * name was absent).
 */
export function applyOperations(values: Values, ops: Operations, input: TemplateInput, options: ApplyOptions = { existing: true }): boolean {
  let ran = false;
  const render = (entry: Entry): string | null => (entry.value === null ? null : renderTemplate(entry.value, input));
  if (options.existing) {
    for (const entry of ops.remove) {
      values.delete(entry.name);
      ran = true;
    }
    for (const entry of ops.rename) {
      const to = render(entry);
      if (to === null || to === entry.name || !values.present(entry.name)) continue;
      const value = values.get(entry.name);
      values.delete(entry.name);
      values.set(to, value);
      ran = true;
    }
    for (const entry of ops.replace) {
      const value = render(entry);
      if (value === null || !values.present(entry.name)) continue;
      values.set(entry.name, value);
      ran = true;
    }
  }
  for (const entry of ops.add) {
    const value = render(entry);
    if (value === null || values.present(entry.name)) continue;
    values.set(entry.name, value);
    ran = true;
  }
  for (const entry of ops.append) {
    const value = render(entry);
    if (value === null) continue;
    values.set(entry.name, appendValue(values.get(entry.name), value));
    ran = true;
  }
  return ran;
}
