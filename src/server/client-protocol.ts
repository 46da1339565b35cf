import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { connectionInfoOf, type ConnectionInfo } from '../connection/connection-info.js';
import type { HeaderMap } from '../pipeline/context.js';
import { announcesBody } from '../proxy/buffered-body.js';
import type { ResponseSink } from '../proxy/upstream-exchange.js';
import type { Http2Request, Http2Response } from './http2-exchange.js';

/**
 * The client's side of one exchange as the proxy handler reads and writes it. node:http's
 * IncomingMessage/ServerResponse are one, and so are the HTTP/2 stream's Http2Request/Http2Response
 * (http2-exchange.ts); what differs between HTTP/1.1 and HTTP/2 is in a `ClientProtocol`, chosen by
 * the listener per connection, so that the handler, the pipeline and the plugins see one request model.
 */
export interface ClientRequest {
  readonly method?: string | undefined;
  /** The request target (HTTP/2: `:path`). */
  readonly url?: string | undefined;
  /** Lower-case names; HTTP/2 pseudo-headers (`:authority`, …) among them. */
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly httpVersion: string;
}

export interface ClientResponse extends ResponseSink {
  readonly headersSent: boolean;
  end(chunk?: string): unknown;
}

/** What HTTP/1.1 and HTTP/2 do differently for the proxy handler. One object per protocol, never per request. */
export interface ClientProtocol<Req extends ClientRequest, Res extends ClientResponse> {
  readonly name: 'http/1.1' | 'h2';
  connectionOf(this: void, req: Req): ConnectionInfo;
  /** What the client named as the authority: Host (HTTP/1.1), else `:authority` (HTTP/2, or Host when it sent none). */
  authorityOf(this: void, req: Req): string | undefined;
  /** Whether a body follows the head: framed by Content-Length/Transfer-Encoding (HTTP/1.1), or not ended with the HEADERS frame (HTTP/2). */
  hasBody(this: void, req: Req): boolean;
  /** Whether the listener cancelled the request for outlasting `--request-timeout` (HTTP/2; node:http answers HTTP/1.1's itself). */
  timedOut(this: void, req: Req): boolean;
  /** The request body as a stream (read by plugins that buffer it, or streamed upstream). */
  bodyOf(this: void, req: Req): Readable;
  /** Writes (or, on HTTP/2, stages) the status and headers. */
  writeHead(this: void, res: Res, status: number, headers: HeaderMap | OutgoingHttpHeaders): void;
  /** Sends the upstream's trailers where the protocol can. Called just before the response ends. */
  forwardTrailers(this: void, res: Res, trailers: Readonly<Record<string, string>>): void;
}

export const http1: ClientProtocol<IncomingMessage, ServerResponse> = {
  name: 'http/1.1',
  connectionOf: (req) => connectionInfoOf(req.socket),
  authorityOf: (req) => req.headers.host,
  hasBody: (req) => announcesBody(req.headers),
  timedOut: () => false,
  bodyOf: (req) => req,
  writeHead: (res, status, headers) => void res.writeHead(status, headers),
  // Node drops trailers on a response it does not chunk (Content-Length, HEAD, 204, HTTP/1.0).
  forwardTrailers: (res, trailers) => {
    if (!res.chunkedEncoding) return;
    for (const _name in trailers) {
      res.addTrailers(trailers);
      return;
    }
  },
};

export const http2: ClientProtocol<Http2Request, Http2Response> = {
  name: 'h2',
  // Every stream of a session shares its socket, whose info is made once (see http2-sessions.ts).
  connectionOf: (req) => connectionInfoOf(req.stream.session!.socket),
  authorityOf: (req) => req.headers[':authority'] ?? req.headers.host,
  hasBody: (req) => !req.stream.endAfterHeaders,
  timedOut: (req) => req.timedOut,
  bodyOf: (req) => req.stream,
  writeHead: (res, status, headers) => res.stage(status, headers),
  forwardTrailers: (res, trailers) => res.setTrailers(trailers),
};
