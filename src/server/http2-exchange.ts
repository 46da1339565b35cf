import type { OutgoingHttpHeaders } from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { HeaderMap } from '../pipeline/context.js';

/**
 * One HTTP/2 stream as the proxy handler's request and response, on node:http2's core API. The
 * compatibility API (Http2ServerRequest/Http2ServerResponse, a Readable and a Writable per stream on
 * top of the stream, itself a Duplex) measured 1.3–1.6× slower than the core API on a bare server
 * with h2load; here the stream carries the bodies both ways and these two objects add only what the
 * handler reads.
 */
export class Http2Request {
  readonly method: string;
  /** `:path`. */
  readonly url: string;
  readonly httpVersion = '2.0';
  /** Set when the stream is cancelled for outlasting the request timeout (http2-sessions.ts). */
  timedOut = false;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
    readonly rawHeaders: string[],
  ) {
    this.method = headers[':method'] ?? 'GET';
    this.url = headers[':path'] ?? '/';
  }
}

/**
 * RFC 9113 §8.2.2 forbids these in HTTP/2 (node throws ERR_HTTP2_INVALID_CONNECTION_HEADERS on
 * them). Upstream responses have lost them already (filterResponseHeaders); a gateway answer may
 * carry one (the 426's Upgrade, a 413's Connection: close), meaningless on HTTP/2.
 */
const connectionSpecific: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * The response side. The head is staged (`stage`) and sent with the first body bytes, or as one
 * HEADERS frame with END_STREAM when the response ends without a body and without trailers: the
 * only shape gRPC clients read a trailers-only status from. A head staged and not sent yet can still
 * be replaced (an upstream failing before its first byte then gets a clean 502, not a reset).
 *
 * Trailers are only known at the end, so a response with a body waits for them (nghttp2 asks, and
 * with none ends the stream with an empty DATA frame) only when the client announced it reads them
 * (`TE: trailers`, which every gRPC client sends) or they are known already. Otherwise the last DATA
 * frame carries END_STREAM: one frame and one event less per response, and trailers an upstream
 * sends to such a client are dropped (nginx drops HTTP/1.1 upstream trailers altogether).
 */
export class Http2Response {
  #head: OutgoingHttpHeaders = { ':status': 200 };
  #trailers: Readonly<Record<string, string>> | null = null;
  #ended = false;

  constructor(
    readonly stream: ServerHttp2Stream,
    /** The request carried `TE: trailers`. */
    private readonly acceptsTrailers: boolean,
  ) {}

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  /**
   * Whether the response was sent to its end. Not the stream's own flag: a stream the client reset
   * counts as finished there (its writable side is closed), which would hide that the client left.
   */
  get writableFinished(): boolean {
    return this.#ended && this.stream.writableFinished;
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  /** The status and headers to send; replaces any staged before. */
  stage(status: number, headers: HeaderMap | OutgoingHttpHeaders): void {
    const head: OutgoingHttpHeaders = { ':status': status };
    for (const name in headers) {
      const value = headers[name];
      if (value !== undefined && !connectionSpecific.has(name)) head[name] = value;
    }
    this.#head = head;
  }

  /** Trailers to send after the body (the upstream's); none, when empty, keeps a bodiless answer one frame. */
  setTrailers(trailers: Readonly<Record<string, string>>): void {
    for (const _name in trailers) {
      this.#trailers = trailers;
      return;
    }
  }

  write(chunk: Buffer): boolean {
    // A stream the client reset is destroyed before its 'close' is emitted: nothing more goes out.
    if (this.stream.destroyed) return false;
    if (!this.stream.headersSent) this.#respond(false);
    return this.stream.write(chunk);
  }

  end(chunk?: string | Buffer): void {
    const stream = this.stream;
    if (stream.destroyed) return;
    this.#ended = true;
    const empty = chunk === undefined || chunk.length === 0;
    if (!stream.headersSent) {
      if (empty && this.#trailers === null) {
        this.#respond(true);
        return;
      }
      this.#respond(false);
    }
    if (empty) stream.end();
    else stream.end(chunk);
  }

  destroy(): void {
    this.stream.destroy();
  }

  on(event: 'drain', listener: () => void): this {
    this.stream.on(event, listener);
    return this;
  }

  once(event: 'close' | 'finish', listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }

  off(event: 'drain' | 'close' | 'finish', listener: () => void): this {
    this.stream.off(event, listener);
    return this;
  }

  #respond(endStream: boolean): void {
    if (endStream) {
      this.stream.respond(this.#head, { endStream: true });
      return;
    }
    if (!this.acceptsTrailers && this.#trailers === null) {
      this.stream.respond(this.#head);
      return;
    }
    // nghttp2 asks for the trailers at the end (none: an empty DATA frame with END_STREAM).
    this.stream.respond(this.#head, { waitForTrailers: true });
    this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.#trailers ?? {}));
  }
}
