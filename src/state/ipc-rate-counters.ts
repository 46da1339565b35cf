/**
 * The rate-limiting counters of a node with --workers: the primary holds the one
 * `MemoryRateCounters`, and each worker takes through the cluster IPC channel, so a limit is the
 * node's and not each worker's (Kong's shared dict). Takes made within one event-loop turn travel
 * as one message.
 */
import { IpcBatch } from './ipc-batch.js';
import type { CounterWindow, MemoryRateCounters, RateCounters } from './rate-counters.js';

/** One take on the wire: its windows as [key, limit, ends-at ms]. */
type WireTake = ReadonlyArray<readonly [string, number, number]>;

export interface RateTakeMessage {
  readonly type: 'portcullis:rate-take';
  readonly seq: number;
  readonly takes: readonly WireTake[];
}

export interface RateAnswerMessage {
  readonly type: 'portcullis:rate-answer';
  readonly seq: number;
  readonly usages: ReadonlyArray<readonly number[]>;
}

/** How long a worker waits for its primary; then the plugin's `fault_tolerant` decides. */
export const RATE_ANSWER_TIMEOUT_MS = 2000;

/** The worker's side. */
export class IpcRateCounters implements RateCounters {
  readonly #batch: IpcBatch<WireTake, readonly number[]>;

  /** `send` sends to the primary; it throws when the channel is closed. */
  constructor(send: (message: RateTakeMessage) => void) {
    this.#batch = new IpcBatch({
      send: (seq, takes) => send({ type: 'portcullis:rate-take', seq, takes }),
      timeoutMs: RATE_ANSWER_TIMEOUT_MS,
      store: 'rate-limiting counters',
      question: 'rate-limiting take',
    });
  }

  take(windows: readonly CounterWindow[]): Promise<readonly number[]> {
    return this.#batch.ask(windows.map((w) => [w.key, w.limit, w.endsAtMs] as const));
  }

  answer(message: RateAnswerMessage): void {
    this.#batch.answer(message.seq, message.usages);
  }

  close(): void {
    this.#batch.close();
  }
}

/** The primary's side: answers a worker's takes from the node's counters, in order. */
export function answerRateTakes(counters: MemoryRateCounters, message: RateTakeMessage): RateAnswerMessage {
  const usages = message.takes.map((take) => counters.takeNow(take.map(([key, limit, endsAtMs]) => ({ key, limit, endsAtMs }))));
  return { type: 'portcullis:rate-answer', seq: message.seq, usages };
}
