import type { AbortSource, ResponseSink } from '../proxy/upstream-exchange.js';

/**
 * Says when the client left before its response finished, for the upstream request to stop. An
 * AbortController would do, but per request it costs an EventTarget and, when aborted, a
 * DOMException with a stack trace; this is a flag and a short list.
 */
export class ClientGone implements AbortSource {
  aborted = false;
  reason: unknown = undefined;
  #listeners: Array<() => void> = [];

  constructor(res: ResponseSink) {
    res.once('close', () => {
      if (res.writableFinished) return;
      this.aborted = true;
      this.reason = new Error('client went away');
      const listeners = this.#listeners;
      this.#listeners = [];
      for (const listener of listeners) listener();
    });
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.#listeners = this.#listeners.filter((l) => l !== listener);
  }
}
