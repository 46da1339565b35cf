// IpcRateCounters (a worker's link to the node's counters) with a fake channel: the messages go to
// the primary's side (answerRateTakes over one MemoryRateCounters) by hand, as the pool would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerRateTakes, IpcRateCounters, type RateTakeMessage } from './ipc-rate-counters.js';
import { MemoryRateCounters } from './rate-counters.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const windows = [{ key: 'k', limit: 2, endsAtMs: Date.now() + 60_000, ttlSeconds: 60 }];

describe('IpcRateCounters', () => {
  it("two workers' takes of one turn count against the primary's one store, in order", async () => {
    const store = new MemoryRateCounters();
    const sent: Array<{ from: IpcRateCounters; message: RateTakeMessage }> = [];
    const a: IpcRateCounters = new IpcRateCounters((message) => void sent.push({ from: a, message }));
    const b: IpcRateCounters = new IpcRateCounters((message) => void sent.push({ from: b, message }));
    const takes = [a.take(windows), a.take(windows), b.take(windows)];
    await nextTurn();
    assert.deepEqual(
      sent.map((s) => s.message.takes.length),
      [2, 1],
      'one message per worker per turn',
    );
    for (const { from, message } of sent) from.answer(answerRateTakes(store, message));
    assert.deepEqual(await Promise.all(takes), [[0], [1], [2]], 'the third take sees the limit reached');
  });

  it('close() fails the takes still waiting (the primary is gone): the plugin then follows fault_tolerant', async () => {
    const link = new IpcRateCounters(() => undefined);
    const take = link.take(windows);
    await nextTurn();
    link.close();
    await assert.rejects(take, /the primary process is gone/);
  });
});
