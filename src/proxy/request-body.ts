import { Readable } from 'node:stream';
import type { RequestBodyBound } from '../pipeline/context.js';
import type { GatewayError } from '../pipeline/gateway-error.js';
import { clientBodyAbortedCode, writeTimeoutCode } from './upstream-errors.js';

/**
 * The client's request body as handed to undici for one attempt. It exists for three reasons:
 * - It attaches to the client stream only when undici first reads, i.e. once a connection is up
 *   and the request head is written. `started` therefore says whether any body byte may have left,
 *   which decides whether a failed attempt can be retried.
 * - undici destroys the body it was given when an attempt fails; destroying the client's
 *   IncomingMessage would kill the client connection before a 502 could be sent. This wrapper is
 *   what gets destroyed; the client stream is only detached (and paused).
 * - It carries `write_timeout`: undici pauses the body when the upstream socket stops draining and
 *   resumes it on 'drain', so a pause that lasts `write_timeout` means the upstream stopped
 *   reading (nginx's proxy_send_timeout: the time between two successive writes).
 * - It carries the request's `limitBody` bound: bytes are counted as they pass, and the chunk that
 *   would cross the bound is dropped and the tap destroyed, so undici aborts the upstream request
 *   before a complete over-limit body could reach it (`overLimit` then holds the refusal).
 * Backpressure passes straight through: a full buffer here pauses the client stream.
 */
export class RequestBodyTap extends Readable {
  readonly #source: Readable;
  readonly #writeTimeoutMs: number;
  #timer: NodeJS.Timeout | undefined;
  #attached = false;
  readonly #bound: RequestBodyBound | null;
  #counted = 0;
  #overLimit: GatewayError | null = null;

  constructor(source: Readable, writeTimeoutMs: number, bound: RequestBodyBound | null = null) {
    super({ highWaterMark: source.readableHighWaterMark });
    this.#source = source;
    this.#writeTimeoutMs = writeTimeoutMs;
    this.#bound = bound;
    if (writeTimeoutMs > 0) {
      this.on('pause', this.#armWriteTimer);
      // 'resume' is emitted a tick after resume(), even if pause() came in between: only a stream
      // that is really flowing again has been drained.
      this.on('resume', () => {
        if (this.readableFlowing === true) this.#disarmWriteTimer();
      });
    }
  }

  /** Whether undici began reading the body, so that some of it may have been sent. */
  get started(): boolean {
    return this.#attached;
  }

  /** The bound's refusal once the body crossed it, else null. */
  get overLimit(): GatewayError | null {
    return this.#overLimit;
  }

  override _read(): void {
    if (!this.#attached) this.#attach();
    this.#source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#disarmWriteTimer();
    this.#detach();
    callback(error);
  }

  #attach(): void {
    this.#attached = true;
    const source = this.#source;
    if (source.errored !== null) {
      this.destroy(clientBodyAborted(source.errored));
      return;
    }
    if (source.readableEnded) {
      this.push(null);
      return;
    }
    source.on('data', this.#onData);
    source.on('end', this.#onEnd);
    source.on('error', this.#onError);
    source.on('close', this.#onClose);
  }

  #detach(): void {
    if (!this.#attached) return;
    const source = this.#source;
    source.off('data', this.#onData);
    source.off('end', this.#onEnd);
    source.off('error', this.#onError);
    source.off('close', this.#onClose);
    // Whatever is left stays unread; node:http discards it once the response is finished.
    if (!source.readableEnded) source.pause();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#bound !== null) {
      this.#counted += chunk.length;
      if (this.#counted > this.#bound.limit) {
        this.#overLimit = this.#bound.refusal();
        this.destroy(this.#overLimit);
        return;
      }
    }
    if (!this.push(chunk)) this.#source.pause();
  };

  readonly #onEnd = (): void => {
    this.push(null);
  };

  readonly #onError = (error: Error): void => {
    this.destroy(clientBodyAborted(error));
  };

  readonly #onClose = (): void => {
    if (!this.#source.readableEnded) this.destroy(clientBodyAborted(new Error('client request body closed before its end')));
  };

  readonly #armWriteTimer = (): void => {
    this.#disarmWriteTimer();
    this.#timer = setTimeout(() => {
      const error = new Error(`upstream did not accept request body data for ${this.#writeTimeoutMs} ms (write_timeout)`);
      this.destroy(Object.assign(error, { code: writeTimeoutCode }));
    }, this.#writeTimeoutMs);
    this.#timer.unref();
  };

  readonly #disarmWriteTimer = (): void => {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  };
}

function clientBodyAborted(cause: Error): Error {
  return Object.assign(new Error(`client request body failed: ${cause.message}`, { cause }), { code: clientBodyAbortedCode });
}
