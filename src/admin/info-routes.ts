/**
 * What tools ask before they configure anything: `GET /` (the Kong admin API level, Portcullis's own
 * version, node id, plugins), `GET /status`, `GET /status/ready` and `GET /plugins/enabled`.
 */
import { hostname } from 'node:os';
import type { PluginDefinition } from '../pipeline/plugin.js';
import type { Runtime } from '../runtime/runtime.js';

export interface ServerStats {
  connections_active: number;
  total_requests: number;
}

export interface InfoSource {
  readonly version: string;
  readonly nodeId: string;
  readonly plugins: ReadonlyMap<string, PluginDefinition>;
  readonly runtime: () => Runtime;
  /** Live counters of the proxy listeners (of every worker, with --workers). */
  readonly stats: () => ServerStats | Promise<ServerStats>;
  /**
   * Null when the proxy listeners accept and serve the current configuration; otherwise why not
   * (workers still starting, all of them gone, draining).
   */
  readonly notReady: () => string | null;
  /** Whether the configuration database answers (Kong's `/status` `database.reachable`); absent: no database, true. */
  readonly databaseReachable?: () => boolean;
}

/**
 * The Kong admin API level Portcullis answers as, in `GET /` `version`. Tools built on go-kong read
 * it to choose their behaviour: decK cuts it to `^\d+\.\d+` and treats anything below 3.0 as Kong
 * 0.x–2.x (it would dump `_format_version: "1.1"`), 3.4 turns on consumer-group scoped plugins, and
 * the ingress controller wants strict semver ≥ 3.4.1. 3.10 is the Kong line whose entity and plugin
 * fields Portcullis follows. Portcullis's own version is `portcullis_version` and the `Server` header.
 */
export const KONG_ADMIN_API_VERSION = '3.10.0';

export function root(info: InfoSource): Record<string, unknown> {
  const names = [...info.plugins.keys()].sort();
  const inUse = [...new Set(info.runtime().config.plugins.map((p) => p.name))].sort();
  return {
    version: KONG_ADMIN_API_VERSION,
    portcullis_version: info.version,
    edition: 'community',
    node_id: info.nodeId,
    hostname: hostname(),
    tagline: 'Welcome to portcullis',
    plugins: {
      // Kong 3.x: name → { version, priority }.
      available_on_server: Object.fromEntries(names.map((p) => [p, { version: info.version, priority: info.plugins.get(p)?.priority ?? 0 }])),
      enabled_in_cluster: inUse,
    },
    // What go-kong and the ingress controller read: no database (the configuration lives in the
    // prefix, changed through this API or POST /config), the traditional-compatible router.
    configuration: { database: 'off', router_flavor: 'traditional_compatible', role: 'traditional', portal: false, rbac: 'off' },
  };
}

export async function status(info: InfoSource): Promise<Record<string, unknown>> {
  const runtime = info.runtime();
  const config = runtime.config;
  const notReady = info.notReady();
  return {
    ready: notReady === null,
    ...(notReady === null ? {} : { not_ready_reason: notReady }),
    configuration_hash: runtime.hash,
    config_version: runtime.version,
    config_loaded_at: runtime.loadedAt.toISOString(),
    counts: {
      services: config.services.length,
      routes: config.routes.length,
      plugins: config.plugins.length,
      consumers: config.consumers.length,
      certificates: config.certificates.length,
      ca_certificates: config.ca_certificates.length,
      upstreams: config.upstreams.length,
      targets: config.targets.length,
    },
    server: await info.stats(),
    database: { reachable: info.databaseReachable?.() ?? true },
  };
}

/** Kong's `/status/ready`: 200 `{"message":"ready"}`, or 503 with the reason, for load balancers and orchestrators. */
export function readiness(info: InfoSource): { status: number; body: { message: string } } {
  const notReady = info.notReady();
  return notReady === null ? { status: 200, body: { message: 'ready' } } : { status: 503, body: { message: notReady } };
}

export function enabledPlugins(info: InfoSource): Record<string, unknown> {
  return { enabled_plugins: [...info.plugins.keys()].sort() };
}
