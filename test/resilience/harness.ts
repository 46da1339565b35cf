// Shared machinery of the fault-injection suite: timed requests through a real gateway process,
// access-log lookups by request id, a steady background client that must only ever see 200s while a
// fault is injected elsewhere, free ports, and polling.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { GatewayProcess } from '../helpers/gateway-process.js';

/** One client agent for the whole suite: plain HTTP to the gateway's proxy listener. */
export const clientAgent = new Agent({ connect: { rejectUnauthorized: false }, keepAliveTimeout: 1_000 });

export interface TimedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** ms from sending the request to the end of the body (or to the body's failure). */
  readonly ms: number;
  readonly requestId: string;
  /** Set when the body broke off after the status line (the gateway destroyed the connection). */
  readonly bodyError: Error | null;
  json<T = Record<string, unknown>>(): T;
}

export interface TimedRequestOptions {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: string | Buffer | Readable;
  token?: string;
  /** Gives up (throws) after this many ms; default 30 s, so a hang fails the test instead of the suite. */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

/** A request through the gateway with its own `x-request-id` (to find its access-log line) and its duration. */
export async function timedRequest(url: string, options: TimedRequestOptions = {}): Promise<TimedResponse> {
  const requestId = randomUUID();
  const headers: Record<string, string> = { 'x-request-id': requestId, ...options.headers };
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  const started = performance.now();
  const res = await request(url, {
    method: options.method ?? 'GET',
    headers,
    body: options.body,
    dispatcher: options.dispatcher ?? clientAgent,
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  let text = '';
  let bodyError: Error | null = null;
  try {
    text = await res.body.text();
  } catch (error) {
    bodyError = error instanceof Error ? error : new Error(String(error));
  }
  const ms = performance.now() - started;
  return { status: res.statusCode, headers: res.headers, text, ms, requestId, bodyError, json: <T>() => JSON.parse(text) as T };
}

export type AccessLine = Record<string, unknown> & {
  status: number;
  reason: string | null;
  auth: { plugin: string; outcome: string; reason: string } | null;
  request_id: string;
};

/** The access-log record of one request (waits for it: pino writes asynchronously). */
export async function accessLine(gateway: GatewayProcess, requestId: string, timeoutMs = 10_000): Promise<AccessLine> {
  const line = await gateway.waitForLog((l) => l['msg'] === 'request' && (l['access'] as { request_id?: unknown } | undefined)?.request_id === requestId, timeoutMs);
  return line['access'] as AccessLine;
}

/** Waits until `count` lines match (pino is asynchronous), then returns them. */
export async function waitForLines(gateway: GatewayProcess, predicate: (l: Record<string, unknown>) => boolean, count: number, timeoutMs = 10_000): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = gateway.logs.filter(predicate);
    if (found.length >= count) return found;
    if (Date.now() > deadline) assert.fail(`expected ${count} matching log lines, saw ${found.length}`);
    await sleep(50);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A TCP port nothing listens on right now (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SteadyTrafficReport {
  /** Status → count; a transport failure counts as status 0. */
  readonly statuses: Record<number, number>;
  readonly total: number;
  readonly errors: string[];
  /** 200s whose body `check` refused (each one's message is in `errors`). */
  readonly unexpected: number;
  /** Requests made to each URL. */
  readonly perUrl: Record<string, number>;
  /** ms from the first request to the last answer. */
  readonly elapsedMs: number;
  /** Answer times in ms: the median, the 99th percentile and the slowest. */
  readonly latency: { readonly p50: number; readonly p99: number; readonly max: number };
}

export interface SteadyTrafficOptions {
  /** Clients running at once, each one request at a time, taking the URLs in turn; default 1. */
  readonly clients?: number;
  /** Each client's pause between its requests; default 10 ms. */
  readonly pauseMs?: number;
  /** What a 200's body must show besides its status (which configuration served it): a message when it does not. */
  readonly check?: (body: string) => string | null;
}

/**
 * Clients that keep requesting `urls` (each one request at a time, `pauseMs` between them) until
 * stopped: the healthy route that must keep answering 200 while another route, the IdP or the
 * database misbehaves. `stop(minimum)` lets them make at least `minimum` requests first (at most
 * 10 s more).
 */
export function steadyTraffic(urls: string | readonly string[], options: SteadyTrafficOptions = {}): { stop(minimum?: number): Promise<SteadyTrafficReport> } {
  const targets = typeof urls === 'string' ? [urls] : urls;
  const statuses: Record<number, number> = {};
  const perUrl: Record<string, number> = {};
  const errors: string[] = [];
  const times: number[] = [];
  let total = 0;
  let unexpected = 0;
  let until = Number.POSITIVE_INFINITY;
  let deadline = Number.POSITIVE_INFINITY;
  const began = performance.now();
  const client = async (first: number): Promise<void> => {
    for (let i = first; total < until && Date.now() < deadline; i++) {
      const url = targets[i % targets.length]!;
      const asked = performance.now();
      try {
        const res = await request(url, { dispatcher: clientAgent, signal: AbortSignal.timeout(10_000) });
        const body = await res.body.text();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        const refused = res.statusCode === 200 ? (options.check?.(body) ?? null) : null;
        if (refused !== null) {
          unexpected++;
          errors.push(`${url}: ${refused}`);
        }
      } catch (error) {
        statuses[0] = (statuses[0] ?? 0) + 1;
        errors.push(error instanceof Error ? error.message : String(error));
      }
      times.push(performance.now() - asked);
      perUrl[url] = (perUrl[url] ?? 0) + 1;
      total++;
      await sleep(options.pauseMs ?? 10);
    }
  };
  const clients = Promise.all(Array.from({ length: options.clients ?? 1 }, (_, c) => client(c)));
  return {
    async stop(minimum = 0) {
      until = minimum;
      deadline = Date.now() + 10_000;
      await clients;
      const sorted = times.sort((x, y) => x - y);
      const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      const latency = { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
      return { statuses, total, errors, unexpected, perUrl, elapsedMs: performance.now() - began, latency };
    },
  };
}

/** Asserts that the steady client made some requests and every one of them got a 200 (that `check` accepted). */
export function assertOnlyOk(report: SteadyTrafficReport, minimum = 5): void {
  assert.ok(report.total >= minimum, `the healthy route got only ${report.total} requests (expected ≥ ${minimum})`);
  assert.deepEqual(report.statuses, { 200: report.total }, `the healthy route answered something else than 200: ${JSON.stringify(report.statuses)} ${report.errors.slice(0, 3).join('; ')}`);
  assert.equal(report.unexpected, 0, `${report.unexpected} answers were not what the route serves: ${report.errors.slice(0, 3).join('; ')}`);
}

/**
 * Runs `body` with a steady client on `healthyUrl` (at least `minimum` requests), then asserts that
 * client only saw 200s. A failure of `body` itself is what is reported, if both fail.
 */
export async function whileHealthyRouteServes<T>(healthyUrl: string, body: () => Promise<T>, minimum = 5): Promise<T> {
  const traffic = steadyTraffic(healthyUrl);
  let result: T;
  try {
    result = await body();
  } catch (error) {
    await traffic.stop();
    throw error;
  }
  assertOnlyOk(await traffic.stop(minimum), minimum);
  return result;
}

/** Runs `n` tasks with at most `concurrency` at a time, in order of index. */
export async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(n);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) {
      const i = next++;
      results[i] = await task(i);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Asserts the gateway process is still alive. */
export function assertRunning(gateway: GatewayProcess): void {
  assert.equal(gateway.child.exitCode, null, `the gateway exited (code ${gateway.child.exitCode}); stderr:\n${gateway.stderr()}`);
  assert.equal(gateway.child.signalCode, null, `the gateway was killed by ${gateway.child.signalCode}`);
}
