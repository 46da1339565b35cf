import { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { readTimeoutCode } from './upstream-errors.js';

/**
 * One attempt at an upstream request, driven by undici's dispatch handler API rather than
 * `request()`: no Readable per response, no AbortSignal per request. Measured on this machine with
 * a bare node:http proxy in front of a fixed-200 upstream, dispatch served 1.4–1.6× the requests
 * per second of request() + piping (bench/, docs/performance.md).
 *
 * The head resolves `head`; the body then goes straight from undici to the client response
 * (`pipeTo`), with backpressure: a full client socket pauses the upstream connection.
 */
export interface UpstreamHead {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Why `pipeTo` failed: the client went away, or the upstream failed (`error` from undici). */
export class BodyFailure extends Error {
  override readonly name = 'BodyFailure';
  constructor(
    readonly origin: 'client' | 'upstream',
    readonly error: unknown,
  ) {
    super(origin === 'client' ? 'the client went away during the response body' : 'the upstream failed during the response body', { cause: error });
  }
}

/** The minimum of an AbortSignal that an exchange listens to (an AbortSignal fits). */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * `read_timeout` as Kong (nginx's proxy_read_timeout) means it: the longest wait between two reads
 * from the upstream, from the moment the request is sent. A native timer, refreshed per chunk:
 * undici's own headersTimeout/bodyTimeout run on its coarse "fast timers" (499 ms ticks, a new
 * timer backdated by one tick), which fired an 800 ms timeout after 550–620 ms.
 */
function readTimeoutError(headReceived: boolean, ms: number): Error {
  return Object.assign(new Error(`no ${headReceived ? 'body data' : 'response head'} from the upstream within read_timeout (${ms} ms)`), { code: readTimeoutCode });
}

/**
 * Where a response body goes: node's ServerResponse (a Writable) or an HTTP/2 stream's
 * Http2Response. Only what the exchange uses: writes with backpressure, the end, and whether the
 * client went away.
 */
export interface ResponseSink {
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  write(chunk: Buffer): boolean;
  end(): unknown;
  destroy(): unknown;
  on(event: 'drain', listener: () => void): unknown;
  once(event: 'close' | 'finish', listener: () => void): unknown;
  off(event: 'drain' | 'close' | 'finish', listener: () => void): unknown;
}

/** Called with the client response and the upstream's trailers just before the response ends. */
export type BeforeEnd<Res extends ResponseSink = ResponseSink> = (res: Res, trailers: Readonly<Record<string, string>>) => void;

export class UpstreamExchange implements Dispatcher.DispatchHandler {
  readonly #readTimeoutMs: number;
  #readTimer: NodeJS.Timeout | null = null;
  /** Whether the request is sent (the read timer may run). */
  #sent = false;
  /** The response head; null once the exchange is over (see #release). */
  #head: Promise<UpstreamHead> | null;
  /** Trailers, filled in when the body ends (this object, never another: callers keep a reference). */
  readonly trailers: Record<string, string> = {};
  /** Body bytes received from the upstream so far (the log phase's response size). */
  bodyBytes = 0;
  #resolveHead!: (head: UpstreamHead) => void;
  #rejectHead!: (error: unknown) => void;
  #headSettled = false;
  #controller: Dispatcher.DispatchController | null = null;
  #abortReason: Error | null = null;
  #pending: Buffer[] = [];
  #ended = false;
  #error: unknown = null;
  #sink: { res: ResponseSink; beforeEnd: BeforeEnd | null; resolve: () => void; reject: (e: BodyFailure) => void } | null = null;
  #settled = false;

  /**
   * `readTimeoutMs` 0: none. `sentAtStart` false: the request body is still streaming, and the
   * caller says when it is sent (`requestSent`).
   */
  constructor(readTimeoutMs = 0, sentAtStart = true) {
    this.#readTimeoutMs = readTimeoutMs;
    this.#sent = sentAtStart;
    this.#head = new Promise<UpstreamHead>((resolve, reject) => {
      this.#resolveHead = resolve;
      this.#rejectHead = reject;
    });
    // A rejection nobody awaited (the caller already gave up) must not crash the process.
    this.#head.catch(() => undefined);
  }

  /** Resolves at the response head (1xx skipped); rejects when the request failed before it. */
  get head(): Promise<UpstreamHead> {
    return this.#head ?? Promise.reject(new Error('the exchange is over'));
  }

  /** Stops this exchange; undici closes the connection if the request was under way. */
  abort(reason: Error): void {
    this.#stopReadTimer();
    if (this.#abortReason !== null) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  /** The streamed request body has been sent: from now on the upstream owes an answer within read_timeout. */
  requestSent(): void {
    this.#sent = true;
    if (this.#controller !== null && !this.#ended && this.#error === null) this.#armReadTimer();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason !== null) return controller.abort(this.#abortReason);
    if (this.#sent) this.#armReadTimer();
  }

  #armReadTimer(): void {
    if (this.#readTimeoutMs <= 0) return;
    if (this.#readTimer !== null) {
      this.#readTimer.refresh();
      return;
    }
    this.#readTimer = setTimeout(this.#onReadTimeout, this.#readTimeoutMs);
    this.#readTimer.unref();
  }

  #stopReadTimer(): void {
    if (this.#readTimer === null) return;
    clearTimeout(this.#readTimer);
    this.#readTimer = null;
  }

  readonly #onReadTimeout = (): void => {
    this.#readTimer = null;
    this.abort(readTimeoutError(this.#headSettled, this.#readTimeoutMs));
  };

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // 1xx (100 Continue, 103 Early Hints) are not forwarded: the final answer follows.
    if (statusCode < 200 || this.#headSettled) return;
    this.#headSettled = true;
    if (this.#readTimer !== null) this.#readTimer.refresh();
    this.#resolveHead({ status: statusCode, headers });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bodyBytes += chunk.length;
    const sink = this.#sink;
    if (sink === null) {
      // The body began before the caller attached the client: hold it, and stop reading meanwhile
      // (no read is pending while paused, so no read timeout runs: nginx times reads, not clients).
      this.#pending.push(chunk);
      this.#stopReadTimer();
      controller.pause();
      return;
    }
    if (!sink.res.write(chunk)) {
      this.#stopReadTimer();
      controller.pause();
    } else if (this.#readTimer !== null) this.#readTimer.refresh();
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    for (const [name, value] of Object.entries(trailers)) if (value !== undefined) this.trailers[name] = Array.isArray(value) ? value.join(', ') : value;
    this.#ended = true;
    this.#stopReadTimer();
    if (this.#sink !== null) this.#finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#stopReadTimer();
    if (!this.#headSettled) {
      this.#headSettled = true;
      this.#rejectHead(error);
      return;
    }
    // After the head, the body broke off (a client that left was already reported by #onClientClose).
    this.#error = error;
    this.#fail(new BodyFailure('upstream', error));
  }

  /**
   * Streams the body into `res` (whose head the caller wrote) and ends it, calling `beforeEnd`
   * just before the end (trailers). Resolves when the response finished; rejects with a
   * BodyFailure saying which side failed. Both sides are torn down on failure by the caller.
   */
  pipeTo<Res extends ResponseSink>(res: Res, beforeEnd: BeforeEnd<Res> | null = null): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#sink = { res, beforeEnd: beforeEnd as BeforeEnd | null, resolve, reject };
      if (this.#error !== null) return this.#fail(new BodyFailure('upstream', this.#error));
      res.on('drain', this.#onDrain);
      res.once('close', this.#onClientClose);
      res.once('finish', this.#onFinish);
      for (const chunk of this.#pending) res.write(chunk);
      this.#pending = [];
      if (this.#ended) this.#finish();
      else this.#resume();
    });
  }

  /** Reads the whole body (tests and callers that need the bytes). */
  async toBuffer(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const collector = new Writable({ write: (chunk: Buffer, _e, cb) => (chunks.push(chunk), cb()) });
    await this.pipeTo(collector);
    return Buffer.concat(chunks);
  }

  /** Gives up on the body: the upstream connection is closed (it cannot be reused mid-response). */
  destroy(): void {
    if (this.#ended && this.#sink === null) return;
    this.abort(new Error('response body abandoned'));
    this.#pending = [];
  }

  readonly #onDrain = (): void => {
    this.#resume();
  };

  /** Reading again: the upstream owes the next bytes within read_timeout. */
  #resume(): void {
    if (this.#controller === null) return;
    if (this.#sent) this.#armReadTimer();
    this.#controller.resume();
  }

  readonly #onClientClose = (): void => {
    const sink = this.#sink;
    if (sink === null || sink.res.writableFinished) return;
    const reason = new Error('client connection closed');
    const controller = this.#controller;
    // Reported first: aborting makes undici call onResponseError at once, which must not win.
    this.#fail(new BodyFailure('client', reason));
    this.#abortReason = reason;
    controller?.abort(reason);
  };

  readonly #onFinish = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    const sink = this.#sink;
    this.#release();
    sink?.resolve();
  };

  #finish(): void {
    const sink = this.#sink!;
    sink.beforeEnd?.(sink.res, this.trailers);
    sink.res.end();
  }

  #fail(failure: BodyFailure): void {
    if (this.#settled || this.#sink === null) return;
    this.#settled = true;
    this.#detach();
    const sink = this.#sink;
    this.#release();
    sink.reject(failure);
  }

  /**
   * Drops what this exchange points at once it is over. undici may keep a finished request (and so
   * its handler) reachable for a while; anything reachable from here would then outlive two young
   * generation collections and be promoted, which `node --trace-gc` showed as ~7 ms scavenges and a
   * full mark-compact every second or so under load.
   */
  #release(): void {
    this.#stopReadTimer();
    this.#sink = null;
    this.#controller = null;
    this.#pending = [];
    // The settled promise would keep the upstream's header object alive with it.
    this.#head = null;
  }

  #detach(): void {
    const res = this.#sink?.res;
    if (res === undefined) return;
    res.off('drain', this.#onDrain);
    res.off('close', this.#onClientClose);
    res.off('finish', this.#onFinish);
  }
}
