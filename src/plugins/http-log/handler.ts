/**
 * Kong's http-log (priority 12, log phase): each request's record (Kong's serializer, credentials
 * redacted) is queued (batch-queue.ts) and sent to `http_endpoint` with undici, one keep-alive
 * pool per instance. A request never waits for the collector: a full queue drops its oldest entry,
 * counted in portcullis_log_entries_dropped_total and logged (throttled). Retiring the
 * configuration (or stopping) flushes the queue.
 */
import { Pool } from 'undici';
import { rootCertificates } from 'node:tls';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { logThrottle } from '../../util/log-throttle.js';
import { BatchQueue, type DropReason } from './batch-queue.js';
import { httpLogSchema, type HttpLogConfig } from './schema.js';

const PLUGIN = 'http-log';

/** Where and how batches go: the pool's origin, the path, and the fixed headers. */
interface Delivery {
  readonly origin: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** host:port, for messages (never the user info). */
  readonly where: string;
}

function deliveryOf(config: HttpLogConfig): Delivery {
  const url = new URL(config.http_endpoint);
  const headers: Record<string, string> = { ...(config.headers ?? {}) };
  // Kong encodes the user info as written in the URL (socket.url does not unescape it).
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(config.http_endpoint)?.[1];
  if (userinfo !== undefined) headers['authorization'] = `Basic ${Buffer.from(userinfo).toString('base64')}`;
  headers['content-type'] = config.content_type;
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { origin: url.origin, path: `${url.pathname === '' ? '/' : url.pathname}${url.search}`, headers, where: `${url.hostname}:${port}` };
}

export const httpLog: PluginDefinition<HttpLogConfig> = {
  schema: httpLogSchema,
  priority: 12,
  create(config, entity, env) {
    const delivery = deliveryOf(config);
    const q = config.queue;
    // Apart, so that retries being logged never hide that entries are being lost.
    const mayWarnDrop = logThrottle(10_000);
    const mayWarnRetry = logThrottle(10_000);
    const ca = env.trustedCaPems.length === 0 ? undefined : [...rootCertificates, ...env.trustedCaPems];
    const pool = new Pool(delivery.origin, {
      keepAliveTimeout: config.keepalive,
      headersTimeout: config.timeout,
      bodyTimeout: config.timeout,
      connect: { timeout: config.timeout, ...(ca === undefined ? {} : { ca }) },
    });
    const batched = q.max_batch_size > 1;
    const send = async (batch: readonly string[]): Promise<void> => {
      const body = batched ? `[${batch.join(',')}]` : batch[0]!;
      const response = await pool.request({ path: delivery.path, method: config.method, headers: delivery.headers, body });
      // Always read the answer, so the connection can be reused.
      const text = await response.body.text();
      if (response.statusCode >= 300) {
        throw new Error(`request to ${delivery.where} returned status code ${response.statusCode} and body ${text.slice(0, 200)}`);
      }
    };
    const dropped = (count: number, reason: DropReason, error?: unknown): void => {
      env.node.kongMetrics.logEntriesDropped(PLUGIN, reason, count);
      if (mayWarnDrop()) env.logger.warn({ plugin: PLUGIN, plugin_id: entity.id, dropped: count, reason, err: error }, `http-log: log entries for ${delivery.where} dropped`);
    };
    const queue = new BatchQueue({
      maxBatchSize: q.max_batch_size,
      maxCoalescingDelayMs: q.max_coalescing_delay * 1000,
      maxEntries: q.max_entries,
      maxBytes: q.max_bytes,
      maxRetryTimeMs: q.max_retry_time < 0 ? -1 : q.max_retry_time * 1000,
      initialRetryDelayMs: q.initial_retry_delay * 1000,
      maxRetryDelayMs: q.max_retry_delay * 1000,
      concurrencyLimit: q.concurrency_limit,
      send,
      dropped,
      failed: (error, attempt) => {
        if (mayWarnRetry()) env.logger.warn({ plugin: PLUGIN, plugin_id: entity.id, attempt, err: error }, `http-log: sending to ${delivery.where} failed, retrying`);
      },
    });
    return {
      log(_ctx, entry) {
        queue.enqueue(entry.json());
      },
      async close() {
        await queue.close();
        await pool.close();
      },
    };
  },
};
