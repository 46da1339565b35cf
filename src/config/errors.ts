import type { ConfigError } from './types.js';

/**
 * Collects every problem found while loading, so one run reports all of them. Duplicates
 * (same path, same message) are dropped: several checks can stumble on the same fault.
 */
export class ErrorList {
  readonly #seen = new Set<string>();
  readonly #errors: ConfigError[] = [];

  add(path: string, message: string): void {
    const key = `${path}\u0000${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#errors.push({ path, message });
  }

  addAll(errors: Iterable<ConfigError>): void {
    for (const e of errors) this.add(e.path, e.message);
  }

  get size(): number {
    return this.#errors.length;
  }

  toArray(): ConfigError[] {
    return [...this.#errors];
  }
}

/** One `path: message` per line, ready for a terminal or a log. */
export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`)).join('\n');
}

/**
 * Groups errors by where they are in the file: by top-level section in the order the file lists
 * them, then by entry (`services[0]` before `services[1]`), keeping discovery order within an entry.
 * Checks run phase by phase, so without this one entity's problems would be scattered.
 */
export function sortErrorsByLocation(errors: readonly ConfigError[], sectionOrder: readonly string[]): ConfigError[] {
  const locate = (path: string): [number, number] => {
    const match = /^([A-Za-z_][\w-]*)(?:\[(\d+)\])?/.exec(path);
    if (match?.[1] === undefined) return [-1, -1];
    return [sectionOrder.indexOf(match[1]), match[2] === undefined ? -1 : Number(match[2])];
  };
  return errors
    .map((error, i) => ({ error, i, at: locate(error.path) }))
    .sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1] || a.i - b.i)
    .map(({ error }) => error);
}
