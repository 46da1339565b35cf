import type { PluginDefinition, PluginSchema } from '../pipeline/plugin.js';
import { requestTermination } from './request-termination/handler.js';

/** Every plugin Portcullis implements, by Kong name. */
export const pluginDefinitions: ReadonlyMap<string, PluginDefinition> = new Map<string, PluginDefinition>(
  [requestTermination as unknown as PluginDefinition].map((definition) => [definition.schema.name, definition]),
);

/** The schemas alone, for validation without handlers (what `loadConfig` takes). */
export const pluginSchemas: ReadonlyMap<string, PluginSchema> = new Map(
  [...pluginDefinitions.values()].map((definition) => [definition.schema.name, definition.schema]),
);
