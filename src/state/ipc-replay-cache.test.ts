// IpcReplayCache (a worker's replay store, answered by its primary) with a fake channel: the
// constructor takes the `send` function, so the tests record what would go over IPC and answer
// it by hand. Batching follows setImmediate; the answer timeout runs on mocked setTimeout.
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { answerReplayClaims, IpcReplayCache, REPLAY_ANSWER_TIMEOUT_MS, type ReplayClaimMessage } from './ipc-replay-cache.js';
import { MemoryReplayCache, type ClaimResult } from './replay-cache.js';

/** One turn of the event loop: the cache's setImmediate flush has run after this. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A worker-side cache whose messages are kept in `sent`. */
function recording(): { cache: IpcReplayCache; sent: ReplayClaimMessage[] } {
  const sent: ReplayClaimMessage[] = [];
  return { cache: new IpcReplayCache((message) => void sent.push(message)), sent };
}

/** Settles a promise into a value to compare: its result, or the rejection's message. */
async function outcome(promise: Promise<ClaimResult>): Promise<{ ok: ClaimResult } | { error: string; cause?: unknown }> {
  try {
    return { ok: await promise };
  } catch (error) {
    const e = error as Error;
    return e.cause === undefined ? { error: e.message } : { error: e.message, cause: e.cause };
  }
}

describe('IpcReplayCache', () => {
  afterEach(() => mock.timers.reset());

  it('sends the claims of one event-loop turn as one batch, in order; nothing before the turn ends', async () => {
    const { cache, sent } = recording();
    const claims = [cache.claim('k1', 1, 10), cache.claim('k2', 2, 20), cache.claim('k3', 3, 30)];
    assert.equal(sent.length, 0, 'claims wait for the end of the turn');
    await nextTurn();
    assert.deepEqual(sent, [
      {
        type: 'portcullis:replay-claim',
        seq: 1,
        claims: [
          ['k1', 1, 10],
          ['k2', 2, 20],
          ['k3', 3, 30],
        ],
      },
    ]);
    cache.answer({ type: 'portcullis:replay-answer', seq: 1, results: ['fresh', 'replayed', 'beyond_capacity'] });
    assert.deepEqual(await Promise.all(claims), ['fresh', 'replayed', 'beyond_capacity']);
  });

  it('claims made across promise continuations of one turn (concurrent requests) still share a batch', async () => {
    const { cache, sent } = recording();
    const first = cache.claim('a', 1, 10);
    await Promise.resolve();
    await Promise.resolve();
    const second = cache.claim('b', 2, 20);
    await nextTurn();
    assert.deepEqual(
      sent.map((m) => m.claims.map(([key]) => key)),
      [['a', 'b']],
    );
    cache.answer({ type: 'portcullis:replay-answer', seq: 1, results: ['fresh', 'fresh'] });
    assert.deepEqual(await Promise.all([first, second]), ['fresh', 'fresh']);
  });

  it('claims of a later turn go in a new batch with the next seq', async () => {
    const { cache, sent } = recording();
    const first = cache.claim('a', 1, 10);
    await nextTurn();
    const second = cache.claim('b', 2, 20);
    const third = cache.claim('c', 3, 30);
    await nextTurn();
    assert.deepEqual(
      sent.map((m) => [m.seq, m.claims.map(([key]) => key)]),
      [
        [1, ['a']],
        [2, ['b', 'c']],
      ],
    );
    cache.answer({ type: 'portcullis:replay-answer', seq: 2, results: ['replayed', 'fresh'] });
    cache.answer({ type: 'portcullis:replay-answer', seq: 1, results: ['fresh'] });
    assert.deepEqual(await Promise.all([first, second, third]), ['fresh', 'replayed', 'fresh']);
  });

  it('answers go to the batch of their seq, however they are ordered; unknown and repeated answers are ignored', async () => {
    const { cache, sent } = recording();
    const batchOne = [cache.claim('x1', 1, 10), cache.claim('x2', 1, 10)];
    await nextTurn();
    const batchTwo = [cache.claim('y1', 1, 10), cache.claim('y2', 1, 10)];
    await nextTurn();
    assert.deepEqual(
      sent.map((m) => m.seq),
      [1, 2],
    );
    cache.answer({ type: 'portcullis:replay-answer', seq: 99, results: ['fresh', 'fresh'] });
    cache.answer({ type: 'portcullis:replay-answer', seq: 2, results: ['beyond_capacity', 'fresh'] });
    // A second answer for an answered seq must not change anything.
    cache.answer({ type: 'portcullis:replay-answer', seq: 2, results: ['fresh', 'replayed'] });
    cache.answer({ type: 'portcullis:replay-answer', seq: 1, results: ['replayed', 'fresh'] });
    assert.deepEqual(await Promise.all(batchTwo), ['beyond_capacity', 'fresh']);
    assert.deepEqual(await Promise.all(batchOne), ['replayed', 'fresh']);
  });

  it('rejects the claims an answer leaves out (fewer results than claims), resolving the others', async () => {
    const { cache } = recording();
    const claims = [cache.claim('a', 1, 10), cache.claim('b', 1, 10), cache.claim('c', 1, 10)];
    await nextTurn();
    cache.answer({ type: 'portcullis:replay-answer', seq: 1, results: ['fresh'] });
    const outcomes = await Promise.all(claims.map(outcome));
    assert.deepEqual(outcomes[0], { ok: 'fresh' });
    for (const o of outcomes.slice(1)) assert.deepEqual(o, { error: 'the primary answered fewer replay claims than were sent' });
  });

  it('rejects every claim of a batch the primary does not answer within REPLAY_ANSWER_TIMEOUT_MS; a late answer changes nothing', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const { cache, sent } = recording();
    const claims = [cache.claim('a', 1, 10), cache.claim('b', 1, 10)];
    let settled = 0;
    for (const c of claims) c.then(() => settled++, () => settled++);
    await nextTurn();
    assert.equal(sent.length, 1);
    mock.timers.tick(REPLAY_ANSWER_TIMEOUT_MS - 1);
    await nextTurn();
    assert.equal(settled, 0, 'still waiting just before the timeout');
    mock.timers.tick(1);
    const outcomes = await Promise.all(claims.map(outcome));
    const expected = { error: `no answer from the primary's replay store within ${REPLAY_ANSWER_TIMEOUT_MS} ms` };
    assert.deepEqual(outcomes, [expected, expected]);
    // The answer arriving afterwards is for a seq no longer waited on.
    cache.answer({ type: 'portcullis:replay-answer', seq: 1, results: ['fresh', 'fresh'] });
    // The cache keeps working for later claims.
    const later = cache.claim('c', 1, 10);
    await nextTurn();
    assert.equal(sent[1]?.seq, 2);
    cache.answer({ type: 'portcullis:replay-answer', seq: 2, results: ['replayed'] });
    assert.equal(await later, 'replayed');
  });

  it('an answer in time clears the timeout: the claim stays resolved past REPLAY_ANSWER_TIMEOUT_MS', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const { cache } = recording();
    const claim = cache.claim('a', 1, 10);
    await nextTurn();
    cache.answer({ type: 'portcullis:replay-answer', seq: 1, results: ['fresh'] });
    mock.timers.tick(REPLAY_ANSWER_TIMEOUT_MS * 2);
    assert.deepEqual(await outcome(claim), { ok: 'fresh' });
  });

  it('rejects the whole batch, with the cause, when send throws (closed channel); the next batch is sent again', async () => {
    const failure = new Error('channel closed');
    let fail = true;
    const sent: ReplayClaimMessage[] = [];
    const cache = new IpcReplayCache((message) => {
      if (fail) throw failure;
      sent.push(message);
    });
    const claims = [cache.claim('a', 1, 10), cache.claim('b', 1, 10)];
    const outcomes = await Promise.all(claims.map(outcome));
    const expected = { error: 'the replay claim could not be sent to the primary', cause: failure };
    assert.deepEqual(outcomes, [expected, expected]);
    fail = false;
    const next = cache.claim('c', 1, 10);
    await nextTurn();
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]?.claims, [['c', 1, 10]]);
    cache.answer({ type: 'portcullis:replay-answer', seq: sent[0].seq, results: ['fresh'] });
    assert.equal(await next, 'fresh');
  });

  it('close() rejects every outstanding claim (the primary is gone)', async () => {
    const { cache } = recording();
    const first = cache.claim('a', 1, 10);
    await nextTurn();
    const second = cache.claim('b', 1, 10);
    await nextTurn();
    cache.close();
    assert.deepEqual(await Promise.all([first, second].map(outcome)), [{ error: 'the primary process is gone' }, { error: 'the primary process is gone' }]);
  });
});

describe('answerReplayClaims (the primary side)', () => {
  it('answers a batch claim by claim against the store, in order, echoing the seq', () => {
    const now = 10_000;
    const store = new MemoryReplayCache(100, () => now);
    assert.equal(store.claimNow('seen', 9_000, 20_000), 'fresh');
    const answer = answerReplayClaims(store, {
      type: 'portcullis:replay-claim',
      seq: 42,
      claims: [
        ['new', 9_500, 20_000],
        ['seen', 9_000, 20_000],
        // Twice in one batch: the second is a replay of the first.
        ['twice', 9_500, 20_000],
        ['twice', 9_500, 20_000],
        // Its window is over: the store may take it again.
        ['expired', 1_000, 5_000],
      ],
    });
    assert.deepEqual(answer, { type: 'portcullis:replay-answer', seq: 42, results: ['fresh', 'replayed', 'fresh', 'replayed', 'fresh'] });
    assert.equal(store.claimNow('new', 9_500, 20_000), 'replayed', 'the batch recorded its fresh claims in the store');
  });

  it('answers beyond_capacity from a full store', () => {
    const store = new MemoryReplayCache(1, () => 10_000);
    const answer = answerReplayClaims(store, {
      type: 'portcullis:replay-claim',
      seq: 1,
      claims: [
        ['a', 9_000, 20_000],
        ['b', 9_100, 20_000],
        ['a', 9_000, 20_000],
      ],
    });
    assert.deepEqual(answer.results, ['fresh', 'fresh', 'beyond_capacity']);
  });

  it('with the worker side: a proof claimed through two workers is fresh once, then replayed', async () => {
    const store = new MemoryReplayCache(100, () => 10_000);
    const worker = (): IpcReplayCache => {
      const cache: IpcReplayCache = new IpcReplayCache((message) => {
        // As over IPC: the answer arrives in a later turn.
        setImmediate(() => cache.answer(answerReplayClaims(store, message)));
      });
      return cache;
    };
    const one = worker();
    const two = worker();
    assert.equal(await one.claim('jti', 9_000, 20_000), 'fresh');
    assert.equal(await two.claim('jti', 9_000, 20_000), 'replayed');
    assert.deepEqual(await Promise.all([one.claim('p', 9_000, 20_000), two.claim('p', 9_000, 20_000)]), ['fresh', 'replayed']);
  });
});
