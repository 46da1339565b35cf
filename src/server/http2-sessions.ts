import { constants, createServer, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { connectionInfoOf } from '../connection/connection-info.js';
import type { AccessRecord } from './access-log.js';
import { connectRefused, headerOverflow, pathOf, refusalRecord, type Refusal } from './refusals.js';
import type { ConnectionLimits } from './settings.js';
import { Http2Request, Http2Response } from './http2-exchange.js';

export type Http2RequestHandler = (req: Http2Request, res: Http2Response) => void;

/**
 * The HTTP/2 side of a listener: connections whose client chose h2 (by ALPN, or by the cleartext
 * preface) are handed over with `accept`, and each stream reaches the handler as an Http2Request
 * and Http2Response on node:http2's core API (http2-exchange.ts).
 *
 * Bounds, beside what nghttp2 enforces itself (rapid reset CVE-2023-44487, SETTINGS/PING/empty-frame
 * floods, CONTINUATION floods, invalid frames: a GOAWAY ends such a session):
 * - `SETTINGS_MAX_CONCURRENT_STREAMS` (`http2MaxConcurrentStreams`, 128 as nginx) and
 *   `SETTINGS_MAX_HEADER_LIST_SIZE` (`maxHeaderSize`, as HTTP/1.1's request head);
 * - a stream must have received its whole request within `requestTimeoutMs` (RST_STREAM CANCEL);
 * - a session without streams is closed (GOAWAY) after `keepAliveTimeoutMs`, or
 *   `headersTimeoutMs` before its first stream.
 */
export class Http2Sessions {
  readonly #server;
  readonly #sessions = new Set<Http2Session>();
  readonly #limits: ConnectionLimits;
  #closing = false;

  constructor(handler: Http2RequestHandler, limits: ConnectionLimits, report: (record: AccessRecord) => void) {
    this.#limits = limits;
    this.#server = createServer(
      {
        settings: {
          maxConcurrentStreams: limits.http2MaxConcurrentStreams,
          maxHeaderListSize: limits.maxHeaderSize,
          enablePush: false,
        },
        maxHeaderListPairs: 512,
        // A client that ignores the stream limit gets its extra streams refused, then a GOAWAY.
        maxSessionRejectedStreams: 100,
      },
    );
    this.#server.on('session', (session) => this.#track(session));
    this.#server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      // A reset stream emits 'error'; the handler sees it as the client gone ('close'), never as a crash.
      stream.on('error', ignore);
      const req = new Http2Request(stream, headers, rawHeaders);
      this.#timeRequest(req);
      const res = new Http2Response(stream, acceptsTrailers(headers.te));
      // CONNECT (RFC 9113 §8.5) would open a tunnel: refused, as over HTTP/1.1.
      const refusal = req.method === 'CONNECT' ? connectRefused : streamProblem(req, limits.maxHeaderSize);
      if (refusal !== null) {
        refuse(req, res, refusal, report);
        return;
      }
      // node:http answers Expect: 100-continue by itself; the core API leaves it to the server.
      if (headers.expect?.toLowerCase() === '100-continue') stream.additionalHeaders({ ':status': 100 });
      handler(req, res);
    });
    // A broken session is closed by node; nothing here may throw on it.
    this.#server.on('sessionError', () => undefined);
  }

  /** Serves `socket` (TLS with ALPN h2, or cleartext after the preface) as an HTTP/2 session. */
  accept(socket: Socket): void {
    // The connection facts are made once, on the real socket, before node wraps it in a proxy.
    connectionInfoOf(socket);
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#server.emit('connection', socket);
  }

  /** GOAWAY to every session: their streams in flight finish, new ones go elsewhere. */
  closeGracefully(): void {
    this.#closing = true;
    for (const session of this.#sessions) if (!session.closed) session.close();
  }

  /** Ends every session now. */
  destroyAll(): void {
    this.#closing = true;
    for (const session of this.#sessions) session.destroy();
  }

  #track(session: Http2Session): void {
    this.#sessions.add(session);
    let active = 0;
    let idle: NodeJS.Timeout | null = null;
    const closeIdle = (): void => {
      if (!session.closed && !session.destroyed) session.close();
    };
    const startIdle = (ms: number): void => {
      if (ms > 0) idle = setTimeout(closeIdle, ms);
    };
    startIdle(this.#limits.headersTimeoutMs > 0 ? Math.min(this.#limits.headersTimeoutMs, this.#limits.keepAliveTimeoutMs) : this.#limits.keepAliveTimeoutMs);
    session.on('stream', (stream: ServerHttp2Stream) => {
      active++;
      if (idle !== null) clearTimeout(idle);
      idle = null;
      stream.once('close', () => {
        if (--active === 0 && !session.closed) startIdle(this.#limits.keepAliveTimeoutMs);
      });
    });
    session.once('close', () => {
      if (idle !== null) clearTimeout(idle);
      this.#sessions.delete(session);
    });
    if (this.#closing) session.close();
  }

  /** The stream must have its whole request by `requestTimeoutMs` (HTTP/1.1's requestTimeout); else it is cancelled. */
  #timeRequest(req: Http2Request): void {
    const ms = this.#limits.requestTimeoutMs;
    const stream = req.stream;
    if (ms <= 0 || stream.endAfterHeaders) return;
    const timer = setTimeout(() => {
      if (stream.destroyed) return;
      req.timedOut = true;
      stream.close(constants.NGHTTP2_CANCEL);
    }, ms);
    const done = (): void => clearTimeout(timer);
    stream.once('end', done);
    stream.once('close', done);
  }
}

/**
 * What HTTP/2 leaves to the server to refuse: a header list larger than the
 * SETTINGS_MAX_HEADER_LIST_SIZE it advertised (RFC 9113 §6.5.2 counts each field as name + value +
 * 32 bytes). nghttp2 advertises the setting but does not enforce it; 431 as HTTP/1.1's head limit.
 * (A request without `:authority` and Host, or with malformed pseudo-headers, never gets here:
 * nghttp2 resets its stream with PROTOCOL_ERROR.)
 */
function streamProblem(req: Http2Request, maxHeaderListSize: number): Refusal | null {
  const raw = req.rawHeaders;
  let size = 0;
  for (let i = 0; i < raw.length; i++) size += raw[i]!.length + (i % 2 === 0 ? 32 : 0);
  return size > maxHeaderListSize ? headerOverflow : null;
}

function refuse(req: Http2Request, res: Http2Response, refusal: Refusal, report: (record: AccessRecord) => void): void {
  const record = refusalRecord(connectionInfoOf(req.stream.session!.socket), refusal, req.method, pathOf(req.url), req.headers[':authority'] ?? '');
  res.stage(refusal.status, { 'content-length': 0, 'x-request-id': record.request_id });
  res.end();
  report(record);
}

function ignore(): void {}

/** HTTP/2 allows only `trailers` in TE (RFC 9113 §8.2.2); a client sending it reads trailer fields. */
function acceptsTrailers(te: string | string[] | undefined): boolean {
  if (te === undefined) return false;
  return (typeof te === 'string' ? te : te.join(',')).toLowerCase().includes('trailers');
}
