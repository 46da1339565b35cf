import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchQueue, type BatchQueueOptions, type DropReason } from './batch-queue.js';

function queue(overrides: Partial<BatchQueueOptions>, sent: string[][], drops: Array<[number, DropReason]>): BatchQueue {
  return new BatchQueue({
    maxBatchSize: 1,
    maxCoalescingDelayMs: 1000,
    maxEntries: 10000,
    maxBytes: null,
    maxRetryTimeMs: 60_000,
    initialRetryDelayMs: 1,
    maxRetryDelayMs: 60_000,
    concurrencyLimit: 1,
    send: (batch) => {
      sent.push([...batch]);
      return Promise.resolve();
    },
    dropped: (count, reason) => void drops.push([count, reason]),
    ...overrides,
  });
}

describe('BatchQueue', () => {
  it('sends a full batch at once, and the rest when closed', async () => {
    const sent: string[][] = [];
    const q = queue({ maxBatchSize: 2, maxCoalescingDelayMs: 3_600_000 }, sent, []);
    for (const e of ['a', 'b', 'c']) q.enqueue(e);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent, [['a', 'b']]);
    await q.close();
    assert.deepEqual(sent, [['a', 'b'], ['c']]);
  });

  it('drops the oldest entries when max_entries are waiting, and reports them', async () => {
    const sent: string[][] = [];
    const drops: Array<[number, DropReason]> = [];
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const q = queue({ maxEntries: 2, send: async (batch) => (sent.push([...batch]), blocked) }, sent, drops);
    q.enqueue('first');
    await new Promise((resolve) => setImmediate(resolve));
    for (const e of ['b', 'c', 'd', 'e']) q.enqueue(e);
    assert.equal(q.size, 2);
    assert.deepEqual(drops, [[1, 'queue_full'], [1, 'queue_full']]);
    release();
    await q.close();
    assert.deepEqual(sent, [['first'], ['d'], ['e']]);
  });

  it('refuses an entry larger than max_bytes, and makes room by bytes', async () => {
    const sent: string[][] = [];
    const drops: Array<[number, DropReason]> = [];
    const q = queue({ maxBytes: 4, maxBatchSize: 10, maxCoalescingDelayMs: 3_600_000 }, sent, drops);
    q.enqueue('toolarge');
    q.enqueue('ab');
    q.enqueue('cd');
    q.enqueue('ef');
    assert.deepEqual(drops, [[1, 'too_large'], [1, 'queue_full']]);
    await q.close();
    assert.deepEqual(sent, [['cd', 'ef']]);
  });

  it('retries with doubling delays, then drops the batch once max_retry_time has passed', async () => {
    let now = 0;
    const attempts: number[] = [];
    const drops: Array<[number, DropReason]> = [];
    const q = queue(
      {
        maxRetryTimeMs: 100,
        now: () => now,
        send: () => {
          attempts.push(now);
          now += 30;
          return Promise.reject(new Error('500'));
        },
      },
      [],
      drops,
    );
    q.enqueue('x');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await q.close();
    assert.deepEqual(attempts, [0, 30, 60, 90, 120].slice(0, attempts.length));
    assert.ok(attempts.length >= 4);
    assert.deepEqual(drops, [[1, 'retries_exhausted']]);
  });

  it('with max_retry_time -1 never retries', async () => {
    let calls = 0;
    const drops: Array<[number, DropReason]> = [];
    const q = queue({ maxRetryTimeMs: -1, send: () => (calls++, Promise.reject(new Error('down'))) }, [], drops);
    q.enqueue('x');
    await q.close();
    assert.equal(calls, 1);
    assert.deepEqual(drops, [[1, 'retries_exhausted']]);
  });

  it('with concurrency_limit -1 sends the next batch while one is still in flight', async () => {
    const started: string[] = [];
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const q = queue({ concurrencyLimit: -1, send: (batch) => (started.push(batch[0]!), blocked) }, [], []);
    q.enqueue('a');
    q.enqueue('b');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, ['a', 'b']);
    release();
    await q.close();
  });
});
