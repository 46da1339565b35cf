/**
 * The admin API (Kong-compatible subset) on `--admin-listen`. One request:
 *
 *   request id ─► token check (401) ─► route ─► body (size, type) ─► endpoint ─► JSON answer
 *
 * Every failure is an `AdminError` with Kong's status, code and body; anything else is a 500 with
 * the request id and a log line, never a stack trace. Writes are logged (method, path, status),
 * bodies never: they can hold private keys.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { PluginAdminApi } from '../pipeline/plugin.js';
import type { ConfigManager } from '../store/config-manager.js';
import { AdminError } from './admin-error.js';
import { checkAdminToken } from './admin-auth.js';
import { getConfig, postConfig, type ConfigAnswer } from './config-routes.js';
import { kindOf } from './entity-kinds.js';
import { ConsumerGroupRoutes } from './consumer-group-routes.js';
import { EntityRoutes, methodNotAllowed, presentOptions } from './entity-routes.js';
import { enabledPlugins, readiness, root, status, type InfoSource } from './info-routes.js';
import { findPluginApi, pluginAdminApis } from './plugin-apis.js';
import { readBody } from './read-body.js';
import { sendEmpty, sendJson, sendText } from './respond.js';
import { SchemaRoutes } from './schema-routes.js';
import { SniRoutes } from './sni-routes.js';
import { TargetRoutes } from './target-routes.js';
import { UpstreamHealthRoutes } from './upstream-health-routes.js';
import type { UpstreamHealth } from '../balancer/health/upstream-health.js';
import { unsupportedCollection } from './unsupported-collections.js';
import { StoreUnavailableError } from '../store/config-store.js';
import { clusterNodes, type ClusterSource } from './clustering-routes.js';

/** Largest admin request body by default: a big decK file with certificates fits comfortably. */
export const DEFAULT_ADMIN_BODY_LIMIT = 8 * 1024 * 1024;

export interface MetricsSource {
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface AdminOptions {
  readonly info: InfoSource;
  readonly logger: Logger;
  readonly manager: ConfigManager;
  /** When set, every request must present it (see `admin-auth.ts`). */
  readonly token: string | null;
  readonly maxBodyBytes?: number;
  /**
   * Certificate keys in every answer, as Kong shows them (decK compares them, and a dump without
   * them cannot be synced back); otherwise only with `?include_private_keys=true`.
   */
  readonly showPrivateKeys?: boolean;
  readonly metrics?: MetricsSource | null;
  /** The node's target health, for `/upstreams/{u}/health` and forcing a target's state. */
  readonly health?: UpstreamHealth;
  /** The nodes of the cluster (--database postgres); null: this node alone. */
  readonly cluster?: ClusterSource | null;
  /**
   * Kong's status listener: only /status, /status/ready and /metrics, read-only, without the admin
   * token (load balancers and scrapers probe it; it changes nothing and shows no entity).
   */
  readonly statusOnly?: boolean;
}

const STATUS_PATHS: ReadonlySet<string> = new Set(['/status', '/status/ready', '/metrics']);

interface Routed {
  readonly method: string;
  readonly path: string;
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  readonly req: IncomingMessage;
  readonly body: () => Promise<unknown>;
}

function parseTarget(url: string): { path: string; segments: string[]; query: URLSearchParams } {
  let parsed: URL;
  let segments: string[];
  try {
    parsed = new URL(url, 'http://admin.invalid');
    segments = parsed.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    throw new AdminError('invalid options', 'malformed request target');
  }
  return { path: parsed.pathname.replace(/\/+$/, '') || '/', segments, query: parsed.searchParams };
}

const isRead = (method: string): boolean => method === 'GET' || method === 'HEAD';

export function createAdminHandler(options: AdminOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const current = (): ReturnType<InfoSource['runtime']>['config'] => options.info.runtime().config;
  const entities = new EntityRoutes(options.manager, current, (plugin) => options.info.plugins.get(plugin)?.schema.configSchema, options.showPrivateKeys ?? false);
  const schemas = new SchemaRoutes(options.manager, options.info.plugins);
  const snis = new SniRoutes(options.manager, current);
  const targets = new TargetRoutes(options.manager, current);
  const configSchemaOf = (plugin: string): unknown => options.info.plugins.get(plugin)?.schema.configSchema;
  const groups = new ConsumerGroupRoutes(options.manager, current, (query) => presentOptions(query, configSchemaOf, options.showPrivateKeys ?? false));
  const health = options.health === undefined ? null : new UpstreamHealthRoutes(options.health, current, options.info.nodeId);
  const pluginApis = pluginAdminApis(options.info.plugins);
  const limit = options.maxBodyBytes ?? DEFAULT_ADMIN_BODY_LIMIT;
  const serverHeader = `portcullis/${options.info.version}`;

  async function route(r: Routed): Promise<ConfigAnswer> {
    const { method, path, segments, query } = r;
    const [first, second, third] = segments;
    const readOnly = (answer: () => ConfigAnswer | Promise<ConfigAnswer>): ConfigAnswer | Promise<ConfigAnswer> => {
      if (!isRead(method)) throw methodNotAllowed();
      return answer();
    };
    if (path === '/') return readOnly(() => ({ status: 200, body: root(options.info) }));
    if (path === '/status') return readOnly(async () => ({ status: 200, body: await status(options.info) }));
    if (path === '/status/ready') return readOnly(() => readiness(options.info));
    if (path === '/clustering/nodes') {
      return readOnly(async () => ({ status: 200, body: await clusterNodes(options.cluster ?? null, { id: options.info.nodeId, configHash: options.info.runtime().hash }) }));
    }
    if (path === '/metrics') {
      return readOnly(async () => {
        if (options.metrics == null) throw new AdminError('not found', 'metrics are not enabled');
        const scraped = await options.metrics.scrape();
        return { status: 200, text: { contentType: scraped.contentType, body: scraped.body } };
      });
    }
    if (path === '/config') {
      if (isRead(method)) return getConfig(current(), query, r.req.headers);
      if (method === 'POST') return postConfig(options.manager, await r.body(), r.req.headers, query);
      throw methodNotAllowed();
    }
    if (path === '/plugins/enabled') return readOnly(() => ({ status: 200, body: enabledPlugins(options.info) }));
    const schemaAnswer = await schemas.handle(method, segments, r.body);
    if (schemaAnswer !== null) return schemaAnswer;
    const unsupported = unsupportedCollection(method, segments, query, path);
    if (unsupported !== null) return unsupported;
    if (first === 'snis' && segments.length <= 2) return snis.handle(method, second, null, query, path, r.body);
    if (first === 'certificates' && third === 'snis' && second !== undefined && segments.length <= 4) {
      return snis.handle(method, segments[3], second.toLowerCase(), query, path, r.body);
    }
    if (health !== null && first === 'upstreams' && second !== undefined) {
      if (third === 'health' && segments.length === 3) return health.health(method, second, query, path);
      const verdict = segments[segments.length - 1];
      if (third === 'targets' && (segments.length === 5 || segments.length === 6) && (verdict === 'healthy' || verdict === 'unhealthy')) {
        return health.set(method, second, segments[3]!, verdict, segments.length === 6 ? segments[4]! : null);
      }
    }
    if (first === 'upstreams' && third === 'targets' && second !== undefined) return targets.handle(method, second, segments.slice(3), query, path, r.body);
    const membership = await groups.handle(method, segments, query, path, r.body);
    if (membership !== null) return membership;
    const kind = kindOf(first);
    if (kind !== null) return entities.handle({ method, kind, segments: segments.slice(1), query, path, body: r.body });
    const api = findPluginApi(pluginApis, path);
    if (api !== null) return pluginAnswer(api, method, path, query);
    throw new AdminError('not found', 'Not found');
  }

  return (req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    // Kong answers `Server: kong/<version>`; ours names the product (decK only checks that it does
    // not contain `ai-gateway`).
    res.setHeader('server', serverHeader);
    const method = req.method ?? 'GET';
    const answer = async (): Promise<ConfigAnswer> => {
      if (options.statusOnly === true) {
        const target = parseTarget(req.url ?? '/');
        if (!STATUS_PATHS.has(target.path)) throw new AdminError('not found', 'Not found');
        return route({ method, ...target, req, body: () => readBody(req, limit) });
      }
      if (!checkAdminToken(req.headers, options.token)) {
        throw new AdminError('unauthorized', 'Invalid credentials. Token required', { headers: { 'www-authenticate': 'Bearer realm="portcullis-admin"' } });
      }
      const target = parseTarget(req.url ?? '/');
      return route({ method, ...target, req, body: () => readBody(req, limit) });
    };
    answer()
      .then(
        (result) => send(res, result),
        (error: unknown) => {
          if (error instanceof AdminError) {
            sendJson(res, error.status, error.toBody(requestId), error.headers);
            return;
          }
          if (error instanceof StoreUnavailableError) {
            options.logger.warn({ err: error, request_id: requestId }, 'admin change refused: the configuration store cannot be reached');
            const refused = new AdminError('database unavailable', 'The database cannot be reached: nothing was changed; the gateway keeps serving its last configuration');
            sendJson(res, refused.status, refused.toBody(requestId));
            return;
          }
          options.logger.error({ err: error, request_id: requestId, method, path: (req.url ?? '').split('?')[0] }, 'admin request failed');
          const internal = new AdminError('internal error', 'An unexpected error occurred');
          sendJson(res, 500, internal.toBody(requestId));
        },
      )
      .then(() => {
        if (!isRead(method)) options.logger.info({ admin: { method, path: (req.url ?? '').split('?')[0], status: res.statusCode, request_id: requestId } }, 'admin change');
      })
      .catch((error: unknown) => options.logger.error({ err: error, request_id: requestId }, 'admin response failed'));
  };
}

function send(res: ServerResponse, answer: ConfigAnswer): void {
  const headers = answer.headers ?? {};
  if (answer.text !== undefined) sendText(res, answer.status, answer.text.body, answer.text.contentType, headers);
  else if (answer.body === undefined) sendEmpty(res, answer.status, headers);
  else sendJson(res, answer.status, answer.body, headers);
}

async function pluginAnswer(api: PluginAdminApi, method: string, path: string, query: URLSearchParams): Promise<ConfigAnswer> {
  const result = await api.handle({ method, path, query });
  if (result === null) throw new AdminError('not found', 'Not found');
  return result.body === undefined || result.status === 204 ? { status: result.status } : { status: result.status, body: result.body };
}
