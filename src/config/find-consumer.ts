import type { Config, Consumer } from './types.js';

/** A consumer by id or username, as Kong's `anonymous` and `default_consumer` name one (never by custom_id). */
export function findConsumer(config: Config, ref: string): Consumer | undefined {
  return config.consumers.find((c) => c.id === ref.toLowerCase()) ?? config.consumers.find((c) => c.username === ref);
}
