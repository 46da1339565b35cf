import { Type, type Static } from '@sinclair/typebox';

/**
 * Kong's queue record (kong/tools/queue_schema.lua), the batching of the plugins that send what
 * they collect elsewhere (http-log, opentelemetry). `defaults` overrides a default per plugin, as
 * Kong's `typedefs.queue { default = … }` does.
 */
export function queueRecord(defaults: { readonly max_batch_size?: number } = {}) {
  return Type.Object(
    {
      max_batch_size: Type.Integer({ minimum: 1, maximum: 1_000_000, default: defaults.max_batch_size ?? 1, description: 'Most entries sent in one batch (http-log with 1: one object per request, else a JSON array).' }),
      max_coalescing_delay: Type.Number({ minimum: 0, maximum: 3600, default: 1, description: 'Seconds after the first entry is queued before a batch is sent (no effect with max_batch_size 1).' }),
      max_entries: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10000, description: 'Most entries waiting; when full, entries are dropped (http-log drops the oldest and counts it, as Kong).' }),
      max_bytes: Type.Union([Type.Integer(), Type.Null()], { default: null, description: 'Most bytes waiting (string content only); unset: no byte bound.' }),
      max_retry_time: Type.Number({ default: 60, description: 'Seconds before a failing batch is given up (-1: no retries).' }),
      initial_retry_delay: Type.Number({ minimum: 0.001, maximum: 1_000_000, default: 0.01, description: 'Seconds before the first retry; each retry doubles it.' }),
      max_retry_delay: Type.Number({ minimum: 0.001, maximum: 1_000_000, default: 60, description: 'Longest wait between retries, in seconds.' }),
      concurrency_limit: Type.Union([Type.Literal(-1), Type.Literal(1)], { default: 1, description: 'Batches in flight at once: 1, or -1 for no limit.' }),
    },
    { additionalProperties: false, default: {} },
  );
}

export type QueueConfig = Static<ReturnType<typeof queueRecord>>;
