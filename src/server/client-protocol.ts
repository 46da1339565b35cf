import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Readable, Writable } from 'node:stream';
import { connectionInfoOf, type ConnectionInfo } from '../connection/connection-info.js';
import type { HeaderMap } from '../pipeline/context.js';
import { announcesBody } from '../proxy/buffered-body.js';

/**
 * The client's side of one exchange as the proxy handler reads and writes it. node:http's
 * IncomingMessage/ServerResponse and node:http2's compatibility request/response are both one; what
 * differs between HTTP/1.1 and HTTP/2 is in a `ClientProtocol`, chosen by the listener per
 * connection, so that the handler, the pipeline and the plugins see one request model.
 */
export interface ClientRequest extends Readable {
  readonly method?: string | undefined;
  /** The request target (HTTP/2: `:path`). */
  readonly url?: string | undefined;
  /** Lower-case names; HTTP/2 pseudo-headers (`:authority`, …) among them. */
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly httpVersion: string;
}

export interface ClientResponse extends Writable {
  readonly headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
}

/** What HTTP/1.1 and HTTP/2 do differently for the proxy handler. One object per protocol, never per request. */
export interface ClientProtocol<Req extends ClientRequest, Res extends ClientResponse> {
  readonly name: 'http/1.1' | 'h2';
  connectionOf(req: Req): ConnectionInfo;
  /** What the client named as the authority: Host (HTTP/1.1), else `:authority` (HTTP/2, or Host when it sent none). */
  authorityOf(req: Req): string | undefined;
  /** Whether a body follows the head: framed by Content-Length/Transfer-Encoding (HTTP/1.1), or not ended with the HEADERS frame (HTTP/2). */
  hasBody(req: Req): boolean;
  /** Writes the status and headers. */
  writeHead(this: void, res: Res, status: number, headers: HeaderMap | OutgoingHttpHeaders): void;
  /** Sends the upstream's trailers where the protocol can. Called just before the response ends. */
  forwardTrailers(this: void, res: Res, trailers: Readonly<Record<string, string>>): void;
}

export const http1: ClientProtocol<IncomingMessage, ServerResponse> = {
  name: 'http/1.1',
  connectionOf: (req) => connectionInfoOf(req.socket),
  authorityOf: (req) => req.headers.host,
  hasBody: (req) => announcesBody(req.headers),
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

/**
 * Fields RFC 9113 §8.2.2 forbids in HTTP/2 (node throws ERR_HTTP2_INVALID_CONNECTION_HEADERS on
 * them). Upstream responses have lost them already (filterResponseHeaders); a gateway answer may
 * carry one (the 426's Upgrade), meaningless on HTTP/2.
 */
const connectionSpecific: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

const staged = Symbol('portcullis.headStaged');
type StagedResponse = Http2ServerResponse & { [staged]?: boolean };

export const http2: ClientProtocol<Http2ServerRequest, Http2ServerResponse> = {
  name: 'h2',
  // Every stream of a session shares its socket, whose info is made once (see http2-sessions.ts).
  connectionOf: (req) => connectionInfoOf(req.stream.session!.socket),
  authorityOf: (req) => req.headers[':authority'] ?? req.headers.host,
  hasBody: (req) => !req.stream.endAfterHeaders,
  // Staged, not sent: node's compatibility layer sends the head with the first DATA frame, or as
  // HEADERS with END_STREAM when the response ends without a body. That is the only shape gRPC
  // clients read a trailers-only answer (a status in the head) from; a writeHead() would send
  // HEADERS, then an empty DATA frame. A head staged but not sent yet can still be replaced (an
  // upstream failing before its first byte then gets a clean 502 instead of a reset).
  writeHead: (res, status, headers) => {
    if ((res as StagedResponse)[staged] === true) {
      for (const name of res.getHeaderNames()) if (name !== 'x-request-id') res.removeHeader(name);
    }
    (res as StagedResponse)[staged] = true;
    res.statusCode = status;
    for (const name in headers) {
      const value = headers[name];
      if (value !== undefined && !connectionSpecific.has(name)) res.setHeader(name, value);
    }
  },
  forwardTrailers: (res, trailers) => {
    for (const _name in trailers) {
      res.addTrailers(trailers);
      return;
    }
  },
};
