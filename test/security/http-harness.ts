// Shared machinery of the HTTP and TLS attack corpus (http-attacks.test.ts, tls-protocols.test.ts):
// an upstream that records every request it parses, raw byte exchanges over real TCP/TLS sockets
// with the responses parsed back out, access-log look-ups by request id, an RFC 3986 path
// normaliser written independently of src/util/uri-path.ts, and `openssl s_client` probes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { GatewayProcess } from '../helpers/gateway-process.js';

// ---------------------------------------------------------------------------------------------
// The counting upstream.

/** One request as the upstream's own HTTP parser saw it. */
export interface UpstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
  /** The X-Request-Id the gateway sent (the client's, when it sent a plain one). */
  readonly requestId: string | undefined;
  body: Buffer;
  /** Whether the whole body arrived (false: the request was cut off). */
  complete: boolean;
}

export interface CountingUpstream {
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order. */
  readonly requests: UpstreamRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Requests received after `mark` (a length of `requests` taken earlier). */
  since(mark: number): UpstreamRequest[];
  /** Requests carrying this X-Request-Id. */
  withId(id: string): UpstreamRequest[];
  /** Resolves once a request matching `predicate` has arrived and finished (or was cut off). */
  waitFor(predicate: (r: UpstreamRequest) => boolean, timeoutMs?: number): Promise<UpstreamRequest>;
  close(): Promise<void>;
}

/**
 * An HTTP upstream that records each request (line, headers, body) and answers after reading the
 * whole body with `{"upstream":"counted","url":…}`. Paths under `/public/early` are answered
 * before their body is read.
 */
export async function startCountingUpstream(): Promise<CountingUpstream> {
  const requests: UpstreamRequest[] = [];
  const settled = new Set<UpstreamRequest>();
  const waiters: Array<{ predicate: (r: UpstreamRequest) => boolean; resolve: (r: UpstreamRequest) => void }> = [];
  let connections = 0;
  const settle = (record: UpstreamRequest): void => {
    if (settled.has(record)) return;
    settled.add(record);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i]!;
      if (waiter.predicate(record)) {
        waiters.splice(i, 1);
        waiter.resolve(record);
      }
    }
  };
  const server: Server = createServer((req, res) => {
    const id = req.headers['x-request-id'];
    const record: UpstreamRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      httpVersion: req.httpVersion,
      headers: req.headers,
      requestId: typeof id === 'string' ? id : undefined,
      body: Buffer.alloc(0),
      complete: false,
    };
    requests.push(record);
    const answer = (): void => {
      if (res.headersSent) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ upstream: 'counted', url: record.url }));
    };
    if (record.url.startsWith('/public/early')) answer();
    req.on('data', (chunk: Buffer) => (record.body = Buffer.concat([record.body, chunk])));
    req.on('end', () => {
      record.complete = true;
      answer();
      settle(record);
    });
    req.on('close', () => settle(record));
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    connections: () => connections,
    since: (mark) => requests.slice(mark),
    withId: (id) => requests.filter((r) => r.requestId === id),
    waitFor(predicate, timeoutMs = 5000) {
      const found = requests.find((r) => settled.has(r) && predicate(r));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching upstream request within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ predicate, resolve: (r) => (clearTimeout(timer), resolve(r)) });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Raw exchanges.

/** One HTTP response parsed out of the bytes a connection received. */
export interface RawResponse {
  readonly status: number;
  /** Header names lower-cased; repeated ones joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawResult {
  /** Everything received, latin1. */
  readonly text: string;
  readonly responses: RawResponse[];
  /** The server closed the connection (rather than the exchange timing out on our side). */
  readonly closedByServer: boolean;
  /** From the first byte written to the close (or the give-up). */
  readonly elapsedMs: number;
}

/** Parses consecutive HTTP/1.x responses; stops at the first incomplete one. */
export function parseResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd === -1) break;
    const lines = text.slice(at, headEnd).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (status === null) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let bodyStart = headEnd + 4;
    let body = '';
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      for (;;) {
        const sizeEnd = text.indexOf('\r\n', bodyStart);
        if (sizeEnd === -1) return responses;
        const size = parseInt(text.slice(bodyStart, sizeEnd), 16);
        bodyStart = sizeEnd + 2;
        if (size === 0) {
          const trailerEnd = text.indexOf('\r\n', bodyStart);
          if (trailerEnd === -1) return responses;
          bodyStart = trailerEnd + 2;
          break;
        }
        body += text.slice(bodyStart, bodyStart + size);
        bodyStart += size + 2;
      }
    } else {
      const length = Number(headers['content-length'] ?? '0');
      if (text.length < bodyStart + length) break;
      body = text.slice(bodyStart, bodyStart + length);
      bodyStart += length;
    }
    responses.push({ status: Number(status[1]), headers, body });
    at = bodyStart;
  }
  return responses;
}

export interface ExchangeOptions {
  /** Bytes to write: one buffer, or several written `gapMs` apart. */
  readonly chunks?: ReadonlyArray<string | Buffer>;
  readonly gapMs?: number;
  /** Give up (and destroy the socket) after this long; default 5 s. */
  readonly timeoutMs?: number;
  /** TLS options: the exchange runs over TLS. */
  readonly tls?: ConnectionOptions;
}

/**
 * Writes bytes exactly as given on a fresh connection to 127.0.0.1:`port` and collects what comes
 * back until the server closes the connection, or `timeoutMs`.
 */
export function exchange(port: number, bytes: string | Buffer, options: ExchangeOptions = {}): Promise<RawResult> {
  const chunks = options.chunks ?? [bytes];
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket: Socket = options.tls === undefined ? netConnect(port, '127.0.0.1') : tlsConnect({ host: '127.0.0.1', port, ...options.tls });
    let received = '';
    let closedByServer = false;
    let finished = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (): void => {
      if (finished) return;
      finished = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      resolve({ text: received, responses: parseResponses(received), closedByServer, elapsedMs: performance.now() - started });
    };
    timers.push(setTimeout(finish, timeoutMs));
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', () => {
      if (!finished) closedByServer = true;
      finish();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the server answered and closed is still the server closing.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
        closedByServer = true;
        finish();
      } else if (!finished) {
        finished = true;
        reject(error);
      }
    });
    const write = (): void => {
      chunks.forEach((chunk, i) => {
        const send = (): void => {
          if (!socket.destroyed) socket.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
        };
        if (i === 0 || options.gapMs === undefined) send();
        else timers.push(setTimeout(send, i * options.gapMs));
      });
    };
    if (options.tls === undefined) socket.once('connect', write);
    else socket.once('secureConnect', write);
  });
}

/** A request head (and optional body) with CRLF line endings, for readable test cases. */
export function request(lines: readonly string[], body = ''): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The access log.

export type Access = Record<string, unknown> & { request_id: string; status: number; reason: string | null; route: string | null };

/** The access record with this request id, waiting for it up to `timeoutMs`. */
export async function accessRecord(gateway: GatewayProcess, requestId: string, timeoutMs = 5000): Promise<Access> {
  const line = await gateway.waitForLog((l) => l['msg'] === 'request' && (l['access'] as Access | undefined)?.request_id === requestId, timeoutMs);
  return line['access'] as Access;
}

/** Every access record with this request id seen so far. */
export function accessRecords(gateway: GatewayProcess, requestId: string): Access[] {
  return gateway.logs
    .filter((l) => l['msg'] === 'request' && (l['access'] as Access | undefined)?.request_id === requestId)
    .map((l) => l['access'] as Access);
}

/**
 * The one response of a refused request: its status, `Connection: close`, an X-Request-Id, and the
 * access record under that id with `reason`. Returns the record.
 */
export async function assertRefused(gateway: GatewayProcess, result: RawResult, status: number, reason: string): Promise<Access> {
  assert.equal(result.responses.length, 1, `exactly one response expected, got:\n${result.text}`);
  const response = result.responses[0]!;
  assert.equal(response.status, status, result.text);
  assert.equal(response.headers['connection']?.toLowerCase(), 'close', 'a refusal closes the connection');
  assert.ok(result.closedByServer, 'the gateway closed the connection');
  const id = response.headers['x-request-id'];
  assert.ok(id !== undefined && /^[0-9a-f-]{36}$/.test(id), `a fresh request id, got ${String(id)}`);
  const record = await accessRecord(gateway, id);
  assert.equal(record.status, status);
  assert.equal(record.reason, reason);
  assert.equal(record.route, null);
  assert.equal(record['client'], '127.0.0.1');
  return record;
}

// ---------------------------------------------------------------------------------------------
// RFC 3986 path normalisation, written from the RFC (§6.2.2.2 percent-encoding normalisation of
// unreserved characters, §5.2.4 remove_dot_segments), independently of the gateway's own code: what
// a standards-following upstream makes of the path it receives.

export function rfc3986Normalize(path: string): string {
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (triplet, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(ch) ? ch : triplet.toUpperCase();
  });
  let input = decoded;
  let output = '';
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '/..') {
      input = '/';
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const segment = next === -1 ? input : input.slice(0, next);
      output += segment;
      input = input.slice(segment.length);
    }
  }
  return output;
}

// ---------------------------------------------------------------------------------------------
// openssl s_client.

export interface HandshakeOutcome {
  /** The negotiated protocol and cipher, or null when no session was established. */
  readonly established: { protocol: string; cipher: string } | null;
  /** The TLS alert the *peer* sent, as OpenSSL names it (`protocol version`, `handshake failure`), or null. */
  readonly alertReceived: string | null;
  /** The client refused on its own before asking the server (its policy excludes what was asked). */
  readonly refusedByClient: boolean;
  readonly output: string;
}

/**
 * `openssl s_client -connect 127.0.0.1:PORT ARGS` with stdin at EOF: it handshakes, reads the EOF
 * and quits. OpenSSL prints an alert received from the peer as `… alert <description> …:SSL alert
 * number N` (from ssl3_read_bytes); a refusal of its own as `no protocols available` or
 * `no ciphers available` (nothing was sent then).
 */
export function sClient(port: number, args: readonly string[]): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { timeout: 10_000 }, (_error, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      const cipher = /Cipher is (\S+)/.exec(output)?.[1];
      // The session block's "Protocol :" is the version in use; without a session block (TLS 1.3
      // before its ticket arrived) the "New, TLSv1.3, Cipher is …" line says it.
      const protocol = /Protocol\s*:\s*(\S+)/.exec(output)?.[1] ?? /New, (TLSv1\.3),/.exec(output)?.[1];
      const established = cipher !== undefined && cipher !== '(NONE)' && protocol !== undefined ? { protocol, cipher } : null;
      const alert = /ssl3_read_bytes:(?:tlsv1|sslv3|tlsv13) alert ([a-z ]+):.*SSL alert number \d+/.exec(output)?.[1] ?? null;
      resolve({ established, alertReceived: alert, refusedByClient: /no protocols available|no ciphers available|no cipher match/.test(output), output });
    });
    child.stdin?.end();
  });
}
