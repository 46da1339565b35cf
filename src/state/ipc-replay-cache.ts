/**
 * The replay store of a node with --workers: the primary holds the one `MemoryReplayCache`, and
 * each worker claims marks through the cluster IPC channel, so a proof accepted by one worker is
 * a replay at every other. Claims made within one turn of the event loop travel as one message.
 */
import type { ClaimResult, MemoryReplayCache, ReplayCache } from './replay-cache.js';

/** One claim on the wire: key, created-at and expires-at (ms). */
type WireClaim = readonly [string, number, number];

export interface ReplayClaimMessage {
  readonly type: 'portcullis:replay-claim';
  readonly seq: number;
  readonly claims: readonly WireClaim[];
}

export interface ReplayAnswerMessage {
  readonly type: 'portcullis:replay-answer';
  readonly seq: number;
  readonly results: readonly ClaimResult[];
}

/** How long a worker waits for its primary before refusing the request (fail closed). */
export const REPLAY_ANSWER_TIMEOUT_MS = 2000;

interface Waiting {
  readonly resolve: (results: readonly ClaimResult[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** The worker's side: claims batched per event-loop turn, answered by the primary. */
export class IpcReplayCache implements ReplayCache {
  /** Sends to the primary; throws when the channel is closed. */
  readonly #send: (message: ReplayClaimMessage) => void;
  readonly #waiting = new Map<number, Waiting>();
  #batch: Array<{ claim: WireClaim; resolve: (r: ClaimResult) => void; reject: (e: Error) => void }> = [];
  #seq = 0;

  constructor(send: (message: ReplayClaimMessage) => void) {
    this.#send = send;
  }

  claim(key: string, createdAtMs: number, expiresAtMs: number): Promise<ClaimResult> {
    return new Promise((resolve, reject) => {
      if (this.#batch.length === 0) setImmediate(() => this.#flush());
      this.#batch.push({ claim: [key, createdAtMs, expiresAtMs], resolve, reject });
    });
  }

  /** Hands the primary's answer to the claims it answers. */
  answer(message: ReplayAnswerMessage): void {
    const waiting = this.#waiting.get(message.seq);
    if (waiting === undefined) return;
    this.#waiting.delete(message.seq);
    clearTimeout(waiting.timer);
    waiting.resolve(message.results);
  }

  /** Fails every outstanding claim (the primary is gone). */
  close(): void {
    for (const [seq, waiting] of this.#waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error('the primary process is gone'));
      this.#waiting.delete(seq);
    }
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    const seq = ++this.#seq;
    const settle = {
      resolve: (results: readonly ClaimResult[]) => {
        batch.forEach((entry, i) => {
          const result = results[i];
          if (result === undefined) entry.reject(new Error('the primary answered fewer claims than were sent'));
          else entry.resolve(result);
        });
      },
      reject: (error: Error) => {
        for (const entry of batch) entry.reject(error);
      },
    };
    const timer = setTimeout(() => {
      this.#waiting.delete(seq);
      settle.reject(new Error(`no answer from the primary's replay store within ${REPLAY_ANSWER_TIMEOUT_MS} ms`));
    }, REPLAY_ANSWER_TIMEOUT_MS);
    timer.unref();
    this.#waiting.set(seq, { ...settle, timer });
    try {
      this.#send({ type: 'portcullis:replay-claim', seq, claims: batch.map((b) => b.claim) });
    } catch (error) {
      clearTimeout(timer);
      this.#waiting.delete(seq);
      settle.reject(new Error('the replay claim could not be sent to the primary', { cause: error }));
    }
  }
}

/** The primary's side: answers a worker's claims from the node's one store. */
export function answerReplayClaims(store: MemoryReplayCache, message: ReplayClaimMessage): ReplayAnswerMessage {
  const results = message.claims.map(([key, createdAt, expiresAt]) => store.claimNow(key, createdAt, expiresAt));
  return { type: 'portcullis:replay-answer', seq: message.seq, results };
}
