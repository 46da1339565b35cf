/**
 * Keeps a label's set of values finite. Route and service names come from the configuration and
 * reason codes from a closed set, but a metric must never be the place where a bug (or a huge config)
 * turns into unbounded memory: past `limit` distinct values, new ones are reported as `other`.
 */
export class BoundedLabel {
  readonly #seen = new Set<string>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** `value` if it is known or there is room for it, else `other`. */
  of(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.#limit) return 'other';
    this.#seen.add(value);
    return value;
  }
}
