/**
 * Kong's log record (kong/pdk/log.lua `serialize`, HTTP subsystem), as file-log and http-log send
 * it and as Portcullis's stricter rule allows: no secret, token or credential ever reaches a
 * record. Kong replaces Authorization and Proxy-Authorization with "REDACTED"; here Cookie and
 * Set-Cookie are too, the token headers Kong's plugins read (DPoP proofs included), and every
 * header or query argument an auth plugin of the route reads a credential from
 * (`PluginInstance.credentialCarriers`), in `headers`, `querystring`, `uri`, `url` and
 * `upstream_uri` alike.
 */
import type { Consumer, Route, Service } from '../config/types.js';
import type { AuthOutcome, HeaderMap, RequestContext } from './context.js';
import type { Latencies, LogEntry } from './log-entry.js';
import type { ResolvedPlugin } from './plugin.js';

export const REDACTED = 'REDACTED';

/** Request headers that carry a credential whatever the plugins (lower-case). */
const ALWAYS_REDACTED_REQUEST_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'dpop', 'access-token', 'x-access-token'];
/** Response headers that may carry a credential (a session cookie). */
const REDACTED_RESPONSE_HEADERS: readonly string[] = ['set-cookie'];
/** Query arguments that carry a credential whatever the plugins (OAuth 2.0's RFC 6750 §2.3). */
const ALWAYS_REDACTED_QUERY: readonly string[] = ['access_token'];

export type QueryValue = string | true | Array<string | true>;

export interface LogRecord {
  readonly request: {
    readonly id: string;
    readonly uri: string;
    readonly url: string;
    readonly querystring: Readonly<Record<string, QueryValue>>;
    readonly method: string;
    readonly headers: Readonly<Record<string, string | readonly string[]>>;
    readonly size: number;
    readonly tls?: { readonly client_verify: 'SUCCESS' | 'NONE' };
  };
  readonly upstream_uri: string;
  readonly upstream_status: string;
  readonly response: { readonly status: number; readonly headers: Readonly<Record<string, string | readonly string[]>>; readonly size: number };
  readonly latencies: Latencies;
  readonly tries: ReadonlyArray<Readonly<Record<string, unknown>>>;
  readonly authenticated_entity?: { readonly id: string | null; readonly consumer_id: string | null };
  /** The route as Kong's entity: its service as `{ id }`. */
  readonly route: Omit<Route, 'service' | 'order'> & { readonly service: { readonly id: string } | null };
  readonly service: Service | null;
  readonly consumer?: Pick<Consumer, 'id' | 'username' | 'custom_id' | 'tags'>;
  readonly client_ip: string;
  readonly started_at: number;
  readonly source: 'service' | 'kong';
  readonly workspace_name: 'default';
  /** Portcullis's own: the authentication outcome and reason code, and the client certificate's x5t#S256. */
  readonly auth: AuthOutcome | null;
  readonly client_certificate: { readonly thumbprint: string } | null;
  /** Portcullis's own: the reason code of a refusal or failure (`no_route`, `upstream_timeout`, …). */
  readonly reason: string | null;
}

/** Names (lower-case) of the headers and query arguments that may carry a credential on this route. */
export interface CredentialCarriers {
  readonly headers: readonly string[];
  readonly query: readonly string[];
}

/** Builds the record of one request (called once per request, by the first logging plugin that asks). */
export function serializeLogRecord(ctx: RequestContext, facts: LogEntry, routePlugins: readonly ResolvedPlugin[]): LogRecord {
  const carriers = credentialCarriersOf(routePlugins);
  const request = ctx.request;
  const query = parseQuery(request.query, carriers.query);
  const uri = request.query === '' ? request.path : `${request.path}?${query.redacted ? query.text : request.query}`;
  const consumer = ctx.identity?.consumer ?? null;
  const record: LogRecord = {
    request: {
      id: ctx.id,
      uri,
      url: `${request.scheme}://${request.host}:${request.port}${uri}`,
      querystring: query.values,
      method: request.method,
      headers: redactHeaders(request.headers, carriers.headers),
      size: facts.requestSize,
      ...(request.scheme === 'https' ? { tls: { client_verify: ctx.clientCertificate === null ? 'NONE' : 'SUCCESS' } as const } : {}),
    },
    upstream_uri: redactUri(facts.upstreamUri, carriers.query),
    upstream_status: facts.upstreamStatus === null ? '' : String(facts.upstreamStatus),
    response: { status: facts.response.status, headers: redactHeaders(facts.response.headers, REDACTED_RESPONSE_HEADERS), size: facts.responseSize },
    latencies: facts.latencies,
    tries: Array.from({ length: facts.tries }, (_, i) => (i === facts.tries - 1 ? {} : { state: 'failed' })),
    ...(ctx.identity !== null && consumer !== null ? { authenticated_entity: { id: ctx.identity.credentialId, consumer_id: consumer.id } } : {}),
    route: kongRoute(ctx.route),
    service: ctx.service,
    ...(consumer !== null ? { consumer: { id: consumer.id, username: consumer.username, custom_id: consumer.custom_id, tags: consumer.tags } } : {}),
    client_ip: ctx.connection.remoteAddress,
    started_at: facts.startedAt,
    source: facts.source,
    workspace_name: 'default',
    auth: ctx.auth,
    client_certificate: ctx.clientCertificate === null ? null : { thumbprint: ctx.clientCertificate.thumbprint },
    reason: facts.reason,
  };
  return Object.freeze(record);
}

/** Kong's form of a route: the service as a reference, without Portcullis's internal `order`. */
function kongRoute(route: Route): LogRecord['route'] {
  const { order: _order, service, ...rest } = route;
  return { ...rest, service: service === null ? null : { id: service } };
}

/** The carriers of every plugin on the route, with the ones that always are. */
export function credentialCarriersOf(plugins: readonly ResolvedPlugin[]): CredentialCarriers {
  let headers = ALWAYS_REDACTED_REQUEST_HEADERS;
  let query = ALWAYS_REDACTED_QUERY;
  for (const plugin of plugins) {
    const own = plugin.instance.credentialCarriers;
    if (own === undefined) continue;
    headers = [...headers, ...own.headers];
    query = [...query, ...own.query];
  }
  return { headers, query };
}

/** A copy of `headers` with the values of `secret` names replaced by REDACTED. */
export function redactHeaders(headers: HeaderMap | Readonly<Record<string, string | string[] | undefined>>, secret: readonly string[]): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = secret.includes(name.toLowerCase()) ? REDACTED : value;
  }
  return out;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

/**
 * Kong's `kong.request.get_query()`: each argument by name, `true` for one without `=`, a list for
 * a repeated one. A credential argument's value is REDACTED, in the table and in `text`.
 */
export function parseQuery(raw: string, secret: readonly string[]): { values: Record<string, QueryValue>; text: string; redacted: boolean } {
  const values: Record<string, QueryValue> = Object.create(null) as Record<string, QueryValue>;
  if (raw === '') return { values, text: '', redacted: false };
  let redacted = false;
  const parts: string[] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    let value: string | true = eq < 0 ? true : decode(part.slice(eq + 1));
    if (secret.includes(name.toLowerCase()) && value !== true) {
      value = REDACTED;
      redacted = true;
      parts.push(`${part.slice(0, eq)}=${REDACTED}`);
    } else parts.push(part);
    const existing = values[name];
    if (existing === undefined) values[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else values[name] = [existing, value];
  }
  return { values: { ...values }, text: parts.join('&'), redacted };
}

/** A path with query whose credential arguments are REDACTED. */
function redactUri(uri: string, secret: readonly string[]): string {
  const mark = uri.indexOf('?');
  if (mark < 0) return uri;
  const query = parseQuery(uri.slice(mark + 1), secret);
  return query.redacted ? `${uri.slice(0, mark + 1)}${query.text}` : uri;
}
