/**
 * Plugins' own admin endpoints (`/openid-connect/issuers`, …): a request whose path starts with an
 * enabled plugin's `adminApi.prefix` is handed to that plugin. Longest prefix first, so a plugin
 * cannot shadow a more specific one.
 */
import type { PluginAdminApi, PluginDefinition } from '../pipeline/plugin.js';

export function pluginAdminApis(plugins: ReadonlyMap<string, PluginDefinition>): readonly PluginAdminApi[] {
  return [...plugins.values()]
    .map((d) => d.adminApi)
    .filter((api): api is PluginAdminApi => api !== undefined)
    .sort((a, b) => b.prefix.length - a.prefix.length);
}

/** The API owning `path`, if any. A prefix `/x/` also owns `/x` itself. */
export function findPluginApi(apis: readonly PluginAdminApi[], path: string): PluginAdminApi | null {
  return apis.find((api) => path.startsWith(api.prefix) || `${path}/` === api.prefix) ?? null;
}
