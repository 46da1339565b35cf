/**
 * Plugin `checkConfig` hooks: checks that need the whole, valid configuration (e.g. "PoP needs a
 * plugin that requests client certificates on the same route"). They see the flattened Config and
 * name things by its indexes (`plugins[3].config.auth_methods`), which are not where the user wrote
 * them; paths are mapped back to the file. A path that does not start with a Config list
 * (`config.auth_methods`) is taken as relative to the plugin being checked.
 */
import type { CheckContext } from '../pipeline/plugin.js';
import type { Drafts } from './collect.js';
import type { ErrorList } from './errors.js';
import type { PluginCatalog } from './plugin-config.js';
import type { Config } from './types.js';

const LISTS: ReadonlyArray<readonly [string, Exclude<keyof Drafts, 'credentials' | 'memberships'>]> = [
  ['services', 'services'],
  ['routes', 'routes'],
  ['plugins', 'plugins'],
  ['consumers', 'consumers'],
  ['consumer_groups', 'consumerGroups'],
  ['ca_certificates', 'caCertificates'],
  ['certificates', 'certificates'],
  ['upstreams', 'upstreams'],
  ['targets', 'targets'],
];

function toSourcePath(path: string, pluginPath: string, drafts: Drafts): string {
  const match = /^([a-z_]+)\[(\d+)\](.*)$/.exec(path);
  if (match?.[1] !== undefined && match[2] !== undefined) {
    const list = LISTS.find(([name]) => name === match[1]);
    const source = list === undefined ? undefined : drafts[list[1]][Number(match[2])]?.path;
    if (source !== undefined) return `${source}${match[3] ?? ''}`;
  }
  if (path === '') return pluginPath;
  return path.startsWith('[') ? `${pluginPath}${path}` : `${pluginPath}.${path}`;
}

/** Runs each plugin's `checkConfig` over the loaded config; a hook that throws is an error too (fail closed). */
export function runPluginCrossChecks(config: Config, drafts: Drafts, catalog: PluginCatalog, errors: ErrorList, context: CheckContext): void {
  config.plugins.forEach((plugin, index) => {
    const schema = catalog.get(plugin.name);
    const pluginPath = drafts.plugins[index]?.path ?? `plugins[${index}]`;
    if (schema?.checkConfig === undefined) return;
    try {
      for (const e of schema.checkConfig(plugin, index, config, context)) errors.add(toSourcePath(e.path, pluginPath, drafts), e.message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      errors.add(pluginPath, `plugin '${plugin.name}' could not check its configuration: ${reason}`);
    }
  });
}
