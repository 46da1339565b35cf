// What /anything reports about a request, shaped like httpbin's answer.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A refusal with an HTTP status, turned into a JSON error answer by the server. */
export class EchoError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EchoError';
  }
}

export type Params = Record<string, string | string[]>;

/** The request target split into the raw path and the query, without URL-parsing `//` paths away. */
export function splitTarget(target: string): { path: string; query: string } {
  let pathAndQuery = target;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    const url = new URL(target); // absolute-form, as a forward proxy would send it
    pathAndQuery = url.pathname + url.search;
  }
  const q = pathAndQuery.indexOf('?');
  return q === -1 ? { path: pathAndQuery, query: '' } : { path: pathAndQuery.slice(0, q), query: pathAndQuery.slice(q + 1) };
}

/** Query or form parameters; a repeated name becomes an array, as in httpbin. */
export function parseParams(query: string): Params {
  const params: Params = {};
  for (const [name, value] of new URLSearchParams(query)) {
    const seen = params[name];
    if (seen === undefined) params[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else params[name] = [seen, value];
  }
  return params;
}

/**
 * Headers as received, in the client's spelling (from rawHeaders); a repeated header is joined
 * with "," as gunicorn does for httpbin. Names that differ only in case merge under the first spelling.
 */
export function receivedHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  const spelling = new Map<string, string>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    const key = spelling.get(name.toLowerCase());
    if (key === undefined) {
      spelling.set(name.toLowerCase(), name);
      headers[name] = value;
    } else {
      headers[key] = `${headers[key] ?? ''},${value}`;
    }
  }
  return headers;
}

/** The peer's address, IPv4-mapped IPv6 shown as plain IPv4. */
export function originOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The full URL as received: scheme of this listener, the Host header, then the raw target. */
export function fullUrlOf(req: IncomingMessage, scheme: 'http' | 'https'): string {
  const target = req.url ?? '/';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return target;
  let host = req.headers.host;
  if (host === undefined || host === '') {
    const local = req.socket.localAddress ?? '127.0.0.1';
    host = `${local.includes(':') ? `[${local}]` : local}:${req.socket.localPort ?? 0}`;
  }
  return `${scheme}://${host}${target}`;
}

export interface ReceivedBody {
  length: number;
  /** SHA-256 of the body, lower-case hex. */
  sha256: string;
  /** The whole body when it is at most the echo limit; null when only counted and hashed. */
  bytes: Buffer | null;
}

/** Reads the body as it streams: always counted and hashed, kept in memory only while small. */
export async function readBody(req: IncomingMessage, maxEchoBytes: number, maxBodyBytes: number): Promise<ReceivedBody> {
  const hash = createHash('sha256');
  let length = 0;
  let chunks: Buffer[] | null = [];
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    length += buf.length;
    if (length > maxBodyBytes) throw new EchoError(413, `request body larger than ${maxBodyBytes} bytes`);
    hash.update(buf);
    if (chunks !== null && length > maxEchoBytes) chunks = null;
    chunks?.push(buf);
  }
  return { length, sha256: hash.digest('hex'), bytes: chunks === null ? null : Buffer.concat(chunks) };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body fields of the answer: `data`, `json`, `form`, `files`, `data_length`, `data_sha256`. */
export function bodyFields(body: ReceivedBody, contentType: string | undefined): Record<string, unknown> {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let data: string | null = null;
  let text: string | null = null;
  if (body.bytes !== null) {
    try {
      text = utf8.decode(body.bytes);
      data = text;
    } catch {
      // Not UTF-8: shown as a data URL, as httpbin does.
      data = `data:application/octet-stream;base64,${body.bytes.toString('base64')}`;
    }
  }
  let json: unknown = null;
  if (text !== null && text !== '' && (type === 'application/json' || type.endsWith('+json'))) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  const form = text !== null && type === 'application/x-www-form-urlencoded' ? parseParams(text) : {};
  return { data, data_length: body.length, data_sha256: body.sha256, files: {}, form, json };
}
