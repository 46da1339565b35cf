import type { ConfigError } from './types.js';

/**
 * Kong's `at_least_one_of` entity check on plugin config fields: an error at `at` (the config's
 * path) when none of `fields` is set to a non-empty value (null, an empty list and an empty string
 * count as unset), with Kong's message.
 */
export function atLeastOneOf(config: Readonly<Record<string, unknown>>, fields: readonly string[], at: string): ConfigError | null {
  const set = fields.some((f) => {
    const value = config[f];
    return value !== null && value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0);
  });
  return set ? null : { path: at, message: `at least one of these fields must be non-empty: ${fields.map((f) => `'config.${f}'`).join(', ')}` };
}
