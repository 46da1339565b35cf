import type { Runtime } from './runtime.js';

/**
 * Holds the current Runtime and swaps it atomically. Each request acquires the runtime it starts
 * with and releases it when done; a replaced runtime is closed once its last request finished.
 */
export class RuntimeHolder {
  #current: Runtime;
  readonly #inFlight = new Map<Runtime, number>();
  readonly #retired = new Map<Runtime, Runtime>(); // retired → its successor
  readonly #onCloseError: (error: unknown) => void;
  readonly #swapListeners = new Set<(next: Runtime) => void>();

  constructor(initial: Runtime, onCloseError: (error: unknown) => void) {
    this.#current = initial;
    this.#onCloseError = onCloseError;
  }

  get current(): Runtime {
    return this.#current;
  }

  acquire(): Runtime {
    const runtime = this.#current;
    this.#inFlight.set(runtime, (this.#inFlight.get(runtime) ?? 0) + 1);
    return runtime;
  }

  release(runtime: Runtime): void {
    const left = (this.#inFlight.get(runtime) ?? 1) - 1;
    if (left > 0) {
      this.#inFlight.set(runtime, left);
      return;
    }
    this.#inFlight.delete(runtime);
    const successor = this.#retired.get(runtime);
    if (successor !== undefined) this.#close(runtime, successor);
  }

  /** New requests see `next` from now on; the old runtime closes when idle. */
  swap(next: Runtime): Runtime {
    const old = this.#current;
    this.#current = next;
    for (const listener of this.#swapListeners) listener(next);
    if ((this.#inFlight.get(old) ?? 0) === 0) this.#close(old, next);
    else this.#retired.set(old, next);
    return old;
  }

  /**
   * Calls `listener` after every swap, for state that must follow the configuration outside
   * requests (the TLS server's certificate-request defaults). Returns the unsubscribe function.
   */
  onSwap(listener: (next: Runtime) => void): () => void {
    this.#swapListeners.add(listener);
    return () => this.#swapListeners.delete(listener);
  }

  /** Closes the current runtime (shutdown). */
  async closeAll(): Promise<void> {
    await this.#current.close(null);
  }

  #close(runtime: Runtime, successor: Runtime): void {
    this.#retired.delete(runtime);
    runtime.close(successor).catch(this.#onCloseError);
  }
}
