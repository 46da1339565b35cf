/**
 * Plugin entities against the plugin catalog: the name must be implemented (never ignored: a
 * misspelt auth plugin silently skipped would leave a route open), `config` must satisfy the
 * plugin's schema (with its defaults written in), and the scope must be one the plugin allows.
 */
import type { PluginSchema } from '../pipeline/plugin.js';
import { convertAjvErrors } from './ajv-errors.js';
import { pluginConfigValidator } from './ajv.js';
import { type Drafts, type PluginDraft, stringField } from './collect.js';
import type { ErrorList } from './errors.js';
import { applyYamlLeniency } from './leniency.js';
import { isRecord, joinPath } from './paths.js';

export type PluginCatalog = ReadonlyMap<string, PluginSchema>;

/**
 * Moves each deprecated shorthand field to the field that replaced it (null is no value, as Kong);
 * given both ways with different values, the shorthand is refused rather than one silently winning.
 */
function applyShorthands(config: Record<string, unknown>, schema: PluginSchema, path: string, errors: ErrorList): void {
  for (const shorthand of schema.shorthands ?? []) {
    if (!Object.hasOwn(config, shorthand.name)) continue;
    const value = config[shorthand.name];
    delete config[shorthand.name];
    if (value === null) continue;
    const target = `config.${shorthand.path.join('.')}`;
    const parent = recordAt(config, shorthand.path.slice(0, -1));
    const leaf = shorthand.path.at(-1)!;
    const current = parent?.[leaf];
    if (parent === null) errors.add(joinPath(path, shorthand.name), `deprecated field cannot go to ${target}: a field on its way is not an object`);
    else if (current !== undefined && current !== null && current !== value) errors.add(joinPath(path, shorthand.name), `deprecated field conflicts with ${target}; set only ${target}`);
    else parent[leaf] = value;
  }
}

/** The record at `path` under `config`, made where missing; null when something on the way is not a record. */
function recordAt(config: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | null {
  let record = config;
  for (const segment of path) {
    const next = record[segment];
    if (next === undefined || next === null) record[segment] = {};
    else if (!isRecord(next)) return null;
    record = record[segment] as Record<string, unknown>;
  }
  return record;
}

function validateConfig(plugin: PluginDraft, schema: PluginSchema, errors: ErrorList): void {
  if (plugin.raw.config === undefined) plugin.raw.config = {};
  const config = plugin.raw.config;
  if (!isRecord(config)) return; // reported by the entity schema
  applyShorthands(config, schema, joinPath(plugin.path, 'config'), errors);
  applyYamlLeniency(schema.configSchema, config);
  let validate;
  try {
    validate = pluginConfigValidator(schema.configSchema);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    errors.add(plugin.path, `plugin '${schema.name}' has an invalid config schema: ${reason}`);
    return;
  }
  if (!validate(config)) errors.addAll(convertAjvErrors(validate.errors ?? [], joinPath(plugin.path, 'config'), config));
}

type Attachment = 'service' | 'route' | 'consumer' | 'consumer_group';

/** Where the plugin is attached, whether by nesting or by reference (resolved or not). */
function attachments(plugin: PluginDraft): Record<Attachment, boolean> {
  const has = (scope: Attachment): boolean => plugin.parent?.kind === scope || (plugin.raw[scope] !== undefined && plugin.raw[scope] !== null);
  return { service: has('service'), route: has('route'), consumer: has('consumer'), consumer_group: has('consumer_group') };
}

function checkScope(plugin: PluginDraft, schema: PluginSchema, errors: ErrorList): void {
  const on = attachments(plugin);
  const name = schema.name;
  if (!on.service && !on.route && !on.consumer && !on.consumer_group && !schema.scopes.global) {
    errors.add(plugin.path, `plugin '${name}' cannot be global; attach it to a service, route or consumer`);
  }
  for (const scope of ['service', 'route', 'consumer'] as const) {
    if (on[scope] && !schema.scopes[scope]) errors.add(plugin.path, `plugin '${name}' cannot be attached to a ${scope}`);
  }
  // Kong EE: a plugin whose schema has `consumer_group = typedefs.no_consumer_group` refuses the scope.
  if (on.consumer_group && schema.scopes.consumerGroup !== true) errors.add(plugin.path, `plugin '${name}' cannot be attached to a consumer group`);
  // No rank of Kong's precedence has both: such an instance would never run, so it is refused.
  else if (on.consumer_group && on.consumer) errors.add(plugin.path, `plugin '${name}' cannot be scoped to both a consumer and a consumer group`);
}

/** Checks every plugin entity's name, config and scope against the catalog. Run after references resolve. */
export function checkPlugins(drafts: Drafts, catalog: PluginCatalog, errors: ErrorList): void {
  for (const plugin of drafts.plugins) {
    const name = stringField(plugin.raw, 'name');
    if (name === undefined) continue;
    const schema = catalog.get(name);
    if (schema === undefined) {
      errors.add(joinPath(plugin.path, 'name'), `plugin '${name}' is not implemented by Portcullis`);
      continue;
    }
    validateConfig(plugin, schema, errors);
    checkScope(plugin, schema, errors);
  }
}
