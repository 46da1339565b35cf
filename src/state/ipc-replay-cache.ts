/**
 * The replay store of a node with --workers: the primary holds the one `MemoryReplayCache`, and
 * each worker claims marks through the cluster IPC channel, so a proof accepted by one worker is
 * a replay at every other. Claims made within one turn of the event loop travel as one message.
 */
import { IpcBatch } from './ipc-batch.js';
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

/** The worker's side: claims batched per event-loop turn, answered by the primary. */
export class IpcReplayCache implements ReplayCache {
  readonly #batch: IpcBatch<WireClaim, ClaimResult>;

  /** `send` sends to the primary; it throws when the channel is closed. */
  constructor(send: (message: ReplayClaimMessage) => void) {
    this.#batch = new IpcBatch({
      send: (seq, claims) => send({ type: 'portcullis:replay-claim', seq, claims }),
      timeoutMs: REPLAY_ANSWER_TIMEOUT_MS,
      store: 'replay store',
      question: 'replay claim',
    });
  }

  claim(key: string, createdAtMs: number, expiresAtMs: number): Promise<ClaimResult> {
    return this.#batch.ask([key, createdAtMs, expiresAtMs]);
  }

  /** Hands the primary's answer to the claims it answers. */
  answer(message: ReplayAnswerMessage): void {
    this.#batch.answer(message.seq, message.results);
  }

  /** Fails every outstanding claim (the primary is gone). */
  close(): void {
    this.#batch.close();
  }
}

/** The primary's side: answers a worker's claims from the node's one store. */
export function answerReplayClaims(store: MemoryReplayCache, message: ReplayClaimMessage): ReplayAnswerMessage {
  const results = message.claims.map(([key, createdAt, expiresAt]) => store.claimNow(key, createdAt, expiresAt));
  return { type: 'portcullis:replay-answer', seq: message.seq, results };
}
