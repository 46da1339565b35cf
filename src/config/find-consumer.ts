import type { Config, Consumer } from './types.js';

/** A consumer by id or username, as Kong's `anonymous` and `default_consumer` name one (never by custom_id). */
export function findConsumer(config: Config, ref: string): Consumer | undefined {
  return config.consumers.find((c) => c.id === ref.toLowerCase()) ?? config.consumers.find((c) => c.username === ref);
}

/** The consumer a plugin field names, or null when the field is unset (a checked config names one that exists). */
export function namedConsumer(config: Config, ref: string | null): Consumer | null {
  return ref === null ? null : (findConsumer(config, ref) ?? null);
}

/**
 * What is wrong with a plugin field naming a consumer, or null: Kong answers 500 on every request
 * for a missing one, refusing the configuration says it once.
 */
export function unknownConsumer(config: Config, ref: string | null): string | null {
  return ref === null || findConsumer(config, ref) !== undefined ? null : `no consumer with id or username '${ref}'`;
}
