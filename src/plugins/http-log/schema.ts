import { Type, type Static } from '@sinclair/typebox';
import type { ConfigError } from '../../config/types.js';
import type { PluginSchema } from '../../pipeline/plugin.js';
import { customFieldsByLua, refuseLua } from '../log-plugins-shared.js';
import { queueRecord } from '../queue-record.js';

// Kong's typedefs.header_name (a token), without the three headers the plugin sets itself.
const HEADER_NAME = '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$';
const OWN_HEADERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^host$/i, "cannot contain 'Host' header"],
  [/^content-length$/i, "cannot contain 'Content-Length' header"],
  [/^content-type$/i, "cannot contain 'Content-Type' header"],
];

/** Kong's http-log (kong/plugins/http-log/schema.lua). */
export const httpLogConfig = Type.Object(
  {
    http_endpoint: Type.String({ minLength: 1, description: 'The collector\'s URL (http or https); user info in it is sent as Basic authentication.' }),
    method: Type.Union([Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('PATCH')], { default: 'POST', description: 'Method of the requests to the collector.' }),
    content_type: Type.Union([Type.Literal('application/json'), Type.Literal('application/json; charset=utf-8')], { default: 'application/json', description: 'Content-Type of the requests.' }),
    timeout: Type.Number({ default: 10000, description: 'ms allowed to connect, to send and to read the answer.' }),
    keepalive: Type.Number({ default: 60000, description: 'ms an idle connection to the collector is kept.' }),
    retry_count: Type.Union([Type.Integer(), Type.Null()], { default: null, description: 'Deprecated and without effect, as in Kong: use queue.max_retry_time.' }),
    headers: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()], { default: null, description: 'Headers added to every request to the collector (never logged).' }),
    queue: queueRecord(),
    custom_fields_by_lua: customFieldsByLua,
  },
  { additionalProperties: false },
);

export type HttpLogConfig = Static<typeof httpLogConfig>;

/** Kong's typedefs.url check (missing host, missing scheme), and only the schemes a log server can be reached by. */
function checkEndpoint(endpoint: string, at: string): ConfigError[] {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return [{ path: `${at}.http_endpoint`, message: /^[a-z][a-z0-9+.-]*:/i.test(endpoint) ? 'missing host in url' : 'missing scheme in url' }];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return [{ path: `${at}.http_endpoint`, message: `unsupported scheme '${url.protocol.slice(0, -1)}': http-log sends to http or https` }];
  if (url.hostname === '') return [{ path: `${at}.http_endpoint`, message: 'missing host in url' }];
  return [];
}

function checkHeaders(headers: Readonly<Record<string, string>> | null, endpoint: string, at: string): ConfigError[] {
  if (headers === null) return [];
  const errors: ConfigError[] = [];
  for (const name of Object.keys(headers)) {
    if (!new RegExp(HEADER_NAME).test(name)) errors.push({ path: `${at}.headers.${name}`, message: 'bad header name' });
    for (const [pattern, message] of OWN_HEADERS) if (pattern.test(name)) errors.push({ path: `${at}.headers.${name}`, message });
  }
  let userinfo = false;
  try {
    const url = new URL(endpoint);
    userinfo = url.username !== '' || url.password !== '';
  } catch {
    // Reported by checkEndpoint.
  }
  if (userinfo && Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
    errors.push({ path: at, message: "specifying both an 'Authorization' header and user info in 'http_endpoint' is not allowed" });
  }
  return errors;
}

export const httpLogSchema: PluginSchema = {
  name: 'http-log',
  configSchema: httpLogConfig,
  scopes: { global: true, service: true, route: true, consumer: true },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  // Kong's deprecated queue_size and flush_timeout, moved into the queue record (retry_count has no new place: it is kept, without effect).
  shorthands: [
    { name: 'queue_size', path: ['queue', 'max_batch_size'] },
    { name: 'flush_timeout', path: ['queue', 'max_coalescing_delay'] },
  ],
  checkConfig(plugin, index) {
    const c = plugin.config as HttpLogConfig;
    const at = `plugins[${index}].config`;
    return [...checkEndpoint(c.http_endpoint, at), ...checkHeaders(c.headers, c.http_endpoint, at), ...refuseLua(c.custom_fields_by_lua, at)];
  },
};
