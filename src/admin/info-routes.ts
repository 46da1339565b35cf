/**
 * What tools ask before they configure anything: `GET /` (version, node id, plugins), `GET /status`,
 * `GET /plugins/enabled` and `GET /schemas/plugins/{name}` (the plugin's config JSON schema with its
 * defaults and descriptions, what Portcullis validates against).
 */
import type { PluginDefinition } from '../pipeline/plugin.js';
import type { Runtime } from '../runtime/runtime.js';
import { AdminError } from './admin-error.js';

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
}

export function root(info: InfoSource): Record<string, unknown> {
  const names = [...info.plugins.keys()].sort();
  const inUse = [...new Set(info.runtime().config.plugins.map((p) => p.name))].sort();
  return {
    version: info.version,
    node_id: info.nodeId,
    tagline: 'Welcome to portcullis',
    plugins: { available_on_server: Object.fromEntries(names.map((p) => [p, true])), enabled_in_cluster: inUse },
  };
}

export async function status(info: InfoSource): Promise<Record<string, unknown>> {
  const runtime = info.runtime();
  const config = runtime.config;
  return {
    ready: true,
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
    },
    server: await info.stats(),
  };
}

export function enabledPlugins(info: InfoSource): Record<string, unknown> {
  return { enabled_plugins: [...info.plugins.keys()].sort() };
}

export function pluginSchema(info: InfoSource, name: string): Record<string, unknown> {
  const definition = info.plugins.get(name);
  if (definition === undefined) throw new AdminError('not found', `No plugin named '${name}'`);
  const { schema } = definition;
  return {
    name: schema.name,
    priority: definition.priority,
    scopes: schema.scopes,
    default_protocols: schema.defaultProtocols,
    // TypeBox schemas are plain JSON schema objects (its symbols do not survive JSON).
    config: schema.configSchema,
  };
}
