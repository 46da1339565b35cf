/**
 * What the log phase hands to a plugin: the facts the proxy measured for one request (status,
 * source, latencies, sizes, tries, upstream URI) and, on demand, Kong's log record
 * (`kong.log.serialize()`), built once however many logging plugins ask for it.
 *
 * The proxy makes a `LogEntry` only for a request whose plugins include one with a log phase, so a
 * request that runs none pays nothing for it.
 */
import type { HeaderMap, RequestContext } from './context.js';
import type { ResolvedPlugin, ResponseHead } from './plugin.js';
import { serializeLogRecord, type LogRecord } from './log-record.js';

/** Kong's `latencies`, in whole milliseconds as Kong's are. */
export interface Latencies {
  /** Time spent in the gateway before the request went upstream (or until its own answer). */
  readonly kong: number;
  /** Time from sending upstream to the response head (Kong's KONG_WAITING_TIME); -1 when nothing went upstream. */
  readonly proxy: number;
  /** From the first byte of the request to the last byte of the response. */
  readonly request: number;
  /** Time reading the upstream's response body (Kong's KONG_RECEIVE_TIME); 0 when none. */
  readonly receive: number;
}

/** The facts the proxy gives the log phase. */
export interface RequestFacts {
  readonly response: ResponseHead;
  /** `service` when the upstream produced the response, `kong` when the gateway did (Kong's kong.response.get_source). */
  readonly source: 'service' | 'kong';
  readonly latencies: Latencies;
  /** Path and query sent upstream, '' when nothing was. */
  readonly upstreamUri: string;
  /** Status the upstream answered, null when it did not. */
  readonly upstreamStatus: number | null;
  /** Attempts made upstream (1 + retries), 0 when nothing went upstream. */
  readonly tries: number;
  /** When the request arrived, Unix time in ms. */
  readonly startedAt: number;
  /** Stable reason code of a refusal or failure, null for a proxied answer. */
  readonly reason: string | null;
  /** What the sizes are computed from, when a plugin asks (most requests' plugins never do). */
  readonly requestLineBytes: number;
  readonly requestHeaders: Readonly<Record<string, string | string[] | undefined>>;
  readonly requestBodyBytes: number;
  /** The response head's fields as sent (the status line is counted apart). */
  readonly responseHeaders: HeaderMap;
  readonly responseBodyBytes: number;
}

/** A request's facts for the log phase, its sizes and its log record, each made on first use. */
export class LogEntry {
  readonly #facts: RequestFacts;
  readonly #ctx: RequestContext;
  readonly #routePlugins: readonly ResolvedPlugin[];
  #requestSize = -1;
  #responseSize = -1;
  #record: LogRecord | null = null;
  #json: string | null = null;

  constructor(ctx: RequestContext, routePlugins: readonly ResolvedPlugin[], facts: RequestFacts) {
    this.#ctx = ctx;
    this.#routePlugins = routePlugins;
    this.#facts = facts;
  }

  get response(): ResponseHead {
    return this.#facts.response;
  }
  get source(): 'service' | 'kong' {
    return this.#facts.source;
  }
  get latencies(): Latencies {
    return this.#facts.latencies;
  }
  get upstreamUri(): string {
    return this.#facts.upstreamUri;
  }
  get upstreamStatus(): number | null {
    return this.#facts.upstreamStatus;
  }
  get tries(): number {
    return this.#facts.tries;
  }
  get startedAt(): number {
    return this.#facts.startedAt;
  }
  get reason(): string | null {
    return this.#facts.reason;
  }

  /** Bytes of the request: request line, header fields and body (Kong's request_length). */
  get requestSize(): number {
    if (this.#requestSize < 0) this.#requestSize = headBytes(this.#facts.requestLineBytes, this.#facts.requestHeaders) + this.#facts.requestBodyBytes;
    return this.#requestSize;
  }

  /** Bytes of the response: status line, header fields and body (Kong's bytes_sent). */
  get responseSize(): number {
    // "HTTP/1.1 200 OK": a status line is about 15 bytes.
    if (this.#responseSize < 0) this.#responseSize = headBytes(15, this.#facts.responseHeaders) + this.#facts.responseBodyBytes;
    return this.#responseSize;
  }

  /** Kong's log record, credentials redacted; the same frozen object for every caller. */
  record(): LogRecord {
    return (this.#record ??= serializeLogRecord(this.#ctx, this, this.#routePlugins));
  }

  /** The record as one JSON text (what file-log and http-log send), encoded once. */
  json(): string {
    return (this.#json ??= JSON.stringify(this.record()));
  }
}

/** Approximate bytes of a head on the wire: `name: value\r\n` per field, the start line and the blank line. */
export function headBytes(startLine: number, headers: HeaderMap | Readonly<Record<string, string | number | readonly string[] | undefined>>): number {
  let bytes = startLine + 4;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const v of value as readonly string[]) bytes += name.length + String(v).length + 4;
    } else bytes += name.length + String(value).length + 4;
  }
  return bytes;
}
