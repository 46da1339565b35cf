// The endpoints. Each answers one request; nothing about a request outlives it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomSource, seededSource, writeBytes, type ByteSource } from './bytes.js';
import {
  bodyFields,
  EchoError,
  fullUrlOf,
  originOf,
  parseParams,
  readBody,
  receivedHeaders,
  splitTarget,
} from './request-info.js';

export interface EchoLimits {
  maxEchoBodyBytes: number;
  maxBodyBytes: number;
  maxDelaySeconds: number;
  maxBytes: number;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  scheme: 'http' | 'https';
  path: string;
  query: string;
  limits: EchoLimits;
}

/** Sends `value` as pretty JSON (httpbin indents too; it is read by people running curl). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Answers one request; rejects only with an EchoError or an I/O failure. */
export async function route(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https', limits: EchoLimits): Promise<void> {
  const { path, query } = splitTarget(req.url ?? '/');
  const call: Call = { req, res, scheme, path, query, limits };
  let m: RegExpExecArray | null;
  if (/^\/anything(\/.*)?$/.test(path)) return anything(call);
  if ((m = /^\/delay\/([^/]+)$/.exec(path))) return delay(call, m[1] ?? '');
  if ((m = /^\/status\/([^/]+)$/.exec(path))) return status(call, m[1] ?? '');
  if ((m = /^\/bytes\/([^/]+)$/.exec(path))) return bytes(call, m[1] ?? '', false);
  if ((m = /^\/stream-bytes\/([^/]+)$/.exec(path))) return bytes(call, m[1] ?? '', true);
  switch (path) {
    case '/get':
      requireMethod(req, 'GET', 'HEAD');
      req.resume();
      return sendJson(res, 200, { args: parseParams(query), headers: receivedHeaders(req), origin: originOf(req), url: fullUrlOf(req, scheme) });
    case '/headers':
      req.resume();
      return sendJson(res, 200, { headers: receivedHeaders(req) });
    case '/ip':
      req.resume();
      return sendJson(res, 200, { origin: originOf(req) });
  }
  req.resume();
  throw new EchoError(404, `no echo endpoint at ${path}`);
}

async function describe(call: Call): Promise<Record<string, unknown>> {
  const { req } = call;
  const body = await readBody(req, call.limits.maxEchoBodyBytes, call.limits.maxBodyBytes);
  return {
    args: parseParams(call.query),
    ...bodyFields(body, req.headers['content-type']),
    headers: receivedHeaders(req),
    method: req.method ?? 'GET',
    origin: originOf(req),
    path: call.path,
    url: fullUrlOf(req, call.scheme),
  };
}

async function anything(call: Call): Promise<void> {
  sendJson(call.res, 200, await describe(call));
}

async function delay(call: Call, seconds: string): Promise<void> {
  const wanted = Number(seconds);
  if (seconds === '' || !Number.isFinite(wanted) || wanted < 0) throw new EchoError(400, `delay: not a number of seconds: ${seconds}`);
  const answer = await describe(call);
  // Stop waiting as soon as the client goes away, so no timer outlives its connection.
  const gone = new AbortController();
  const onClose = (): void => gone.abort();
  call.res.once('close', onClose);
  try {
    await sleep(Math.min(wanted, call.limits.maxDelaySeconds) * 1000, undefined, { signal: gone.signal });
  } catch {
    return;
  } finally {
    call.res.off('close', onClose);
  }
  sendJson(call.res, 200, answer);
}

async function status(call: Call, codes: string): Promise<void> {
  const choices = codes.split(',').map((c) => Number(c.trim()));
  if (!choices.every((c) => Number.isInteger(c) && c >= 200 && c <= 599)) {
    throw new EchoError(400, `status: expected codes from 200 to 599, got ${codes}`);
  }
  const code = choices[Math.floor(Math.random() * choices.length)] ?? 200;
  // Drain the body so the connection stays reusable.
  await readBody(call.req, 0, call.limits.maxBodyBytes);
  call.res.writeHead(code, { 'content-length': 0 });
  call.res.end();
}

async function bytes(call: Call, count: string, chunked: boolean): Promise<void> {
  const { req, res, limits } = call;
  requireMethod(req, 'GET', 'HEAD');
  req.resume();
  const n = /^\d+$/.test(count) ? Number(count) : NaN;
  if (!(n <= limits.maxBytes)) throw new EchoError(400, `bytes: expected 0 to ${limits.maxBytes}, got ${count}`);
  const params = new URLSearchParams(call.query);
  const seedParam = params.get('seed');
  let source: ByteSource = randomSource;
  if (seedParam !== null) {
    if (!/^\d{1,10}$/.test(seedParam)) throw new EchoError(400, `seed: expected a non-negative integer, got ${seedParam}`);
    source = seededSource(Number(seedParam));
  }
  const chunkParam = params.get('chunk_size');
  const chunkSize = chunkParam === null ? (chunked ? 10 * 1024 : 64 * 1024) : Number(chunkParam);
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 1024 * 1024) {
    throw new EchoError(400, `chunk_size: expected 1 to 1048576, got ${chunkParam}`);
  }
  const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' };
  if (!chunked) headers['content-length'] = n;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') return void res.end();
  await writeBytes(res, source, n, chunkSize);
}

function requireMethod(req: IncomingMessage, ...allowed: string[]): void {
  if (!allowed.includes(req.method ?? '')) {
    req.resume();
    throw new EchoError(405, `method ${req.method} not allowed here; use ${allowed.join(' or ')}`);
  }
}
