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
  /** Bytes of the request: request line, header fields and body. */
  readonly requestSize: number;
  /** Bytes of the response: status line, header fields and body. */
  readonly responseSize: number;
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
}

/** A request's facts for the log phase, and its log record made on first use. */
export class LogEntry implements RequestFacts {
  readonly response: ResponseHead;
  readonly source: 'service' | 'kong';
  readonly latencies: Latencies;
  readonly requestSize: number;
  readonly responseSize: number;
  readonly upstreamUri: string;
  readonly upstreamStatus: number | null;
  readonly tries: number;
  readonly startedAt: number;
  readonly reason: string | null;
  readonly #ctx: RequestContext;
  readonly #routePlugins: readonly ResolvedPlugin[];
  #record: LogRecord | null = null;
  #json: string | null = null;

  constructor(ctx: RequestContext, routePlugins: readonly ResolvedPlugin[], facts: RequestFacts) {
    this.#ctx = ctx;
    this.#routePlugins = routePlugins;
    this.response = facts.response;
    this.source = facts.source;
    this.latencies = facts.latencies;
    this.requestSize = facts.requestSize;
    this.responseSize = facts.responseSize;
    this.upstreamUri = facts.upstreamUri;
    this.upstreamStatus = facts.upstreamStatus;
    this.tries = facts.tries;
    this.startedAt = facts.startedAt;
    this.reason = facts.reason;
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
