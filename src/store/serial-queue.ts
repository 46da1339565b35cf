/**
 * Runs tasks one at a time, in arrival order. Configuration changes go through one of these so that
 * each one starts from the result of the previous one (no lost update between two admin requests).
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it; its result or error is passed through. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    // The queue continues whether this task failed or not.
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
