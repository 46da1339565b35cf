/**
 * Questions a worker asks its primary over the cluster IPC channel, batched: every question asked
 * within one turn of the event loop travels as one message, and the primary answers the batch
 * with one message, in the same order. Shared by the node-wide stores a worker does not own (the
 * replay store, the rate-limiting counters). A batch without an answer within the deadline fails:
 * each user decides what that means (the replay cache fails closed, rate limiting follows
 * `fault_tolerant`).
 */

interface Waiting<A> {
  readonly resolve: (answers: readonly A[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface Pending<Q, A> {
  readonly question: Q;
  readonly resolve: (answer: A) => void;
  readonly reject: (error: Error) => void;
}

export interface IpcBatchOptions<Q> {
  /** Sends one batch to the primary; throws when the channel is closed. */
  readonly send: (seq: number, questions: readonly Q[]) => void;
  /** How long the primary has to answer a batch. */
  readonly timeoutMs: number;
  /** What the primary answers from and what a question is, for messages ("replay store", "replay claim"). */
  readonly store: string;
  readonly question: string;
}

export class IpcBatch<Q, A> {
  readonly #options: IpcBatchOptions<Q>;
  readonly #waiting = new Map<number, Waiting<A>>();
  #batch: Array<Pending<Q, A>> = [];
  #seq = 0;

  constructor(options: IpcBatchOptions<Q>) {
    this.#options = options;
  }

  ask(question: Q): Promise<A> {
    return new Promise((resolve, reject) => {
      if (this.#batch.length === 0) setImmediate(() => this.#flush());
      this.#batch.push({ question, resolve, reject });
    });
  }

  /** Hands the primary's answers to the questions of batch `seq` (a late or unknown answer is dropped). */
  answer(seq: number, answers: readonly A[]): void {
    const waiting = this.#waiting.get(seq);
    if (waiting === undefined) return;
    this.#waiting.delete(seq);
    clearTimeout(waiting.timer);
    waiting.resolve(answers);
  }

  /** Fails every outstanding question (the primary is gone). */
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
    const { store, question, timeoutMs } = this.#options;
    const settle = {
      resolve: (answers: readonly A[]) => {
        batch.forEach((entry, i) => {
          // An index past the end: the primary answered fewer than it was asked.
          if (i >= answers.length) entry.reject(new Error(`the primary answered fewer ${question}s than were sent`));
          else entry.resolve(answers[i] as A);
        });
      },
      reject: (error: Error) => {
        for (const entry of batch) entry.reject(error);
      },
    };
    const timer = setTimeout(() => {
      this.#waiting.delete(seq);
      settle.reject(new Error(`no answer from the primary's ${store} within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    this.#waiting.set(seq, { ...settle, timer });
    try {
      this.#options.send(
        seq,
        batch.map((b) => b.question),
      );
    } catch (error) {
      clearTimeout(timer);
      this.#waiting.delete(seq);
      settle.reject(new Error(`the ${question} could not be sent to the primary`, { cause: error }));
    }
  }
}
