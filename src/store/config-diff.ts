/**
 * What changes between two configurations, entity by entity (matched by id): the plan `sync`
 * prints before it acts, and the summary `apply` prints after.
 */
import { canonicalJson } from '../config/hash.js';
import type { Config } from '../config/types.js';
import type { Section } from './entity-keys.js';
import { SECTIONS } from './entity-keys.js';

export interface EntityChange {
  readonly action: 'create' | 'update' | 'delete';
  readonly section: Section;
  readonly id: string;
  /** `service example-service`, `plugin request-termination on route example-route`, `target 10.0.0.1:8000 of upstream backend.internal`. */
  readonly label: string;
  /** Top-level fields that differ (updates only). */
  readonly fields: readonly string[];
}

export interface ConfigDiff {
  readonly changes: readonly EntityChange[];
  /** Entities present in both and equal. */
  readonly unchanged: number;
}

type Entity = { readonly id: string } & Record<string, unknown>;

const singular: Record<Section, string> = {
  services: 'service',
  routes: 'route',
  consumers: 'consumer',
  consumer_groups: 'consumer_group',
  plugins: 'plugin',
  ca_certificates: 'ca_certificate',
  certificates: 'certificate',
  upstreams: 'upstream',
  targets: 'target',
  keyauth_credentials: 'keyauth_credential',
  basicauth_credentials: 'basicauth_credential',
  jwt_secrets: 'jwt_secret',
  acls: 'acl',
};

// A route's position is not something the user changes; it is left out of the comparison.
const ignored = new Set(['order']);

function label(section: Section, e: Entity, names: Map<string, string>): string {
  const own = [e.name, e.username, e.custom_id].find((v): v is string => typeof v === 'string');
  if (section === 'plugins') {
    const scope = (['service', 'route', 'consumer', 'consumer_group'] as const)
      .filter((k) => typeof e[k] === 'string')
      .map((k) => `${k.replace('_', ' ')} ${names.get(e[k] as string) ?? (e[k] as string)}`);
    return `plugin ${own ?? e.id}${scope.length > 0 ? ` on ${scope.join(', ')}` : ' (global)'}`;
  }
  if (section === 'targets') return `target ${String(e.target)} of upstream ${names.get(e.upstream as string) ?? String(e.upstream)}`;
  if (section === 'certificates' && Array.isArray(e.snis) && e.snis.length > 0) return `certificate ${e.id} (${String(e.snis[0])})`;
  return `${singular[section]} ${own ?? e.id}`;
}

function entities(config: Config, section: Section): readonly Entity[] {
  return config[section] as unknown as readonly Entity[];
}

function changedFields(a: Entity, b: Entity): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !ignored.has(k) && canonicalJson(a[k]) !== canonicalJson(b[k])).sort();
}

/** Entity-level differences from `before` to `after`. */
export function diffConfigs(before: Config, after: Config): ConfigDiff {
  const names = new Map<string, string>();
  for (const config of [before, after]) {
    for (const s of config.services) if (s.name !== null) names.set(s.id, s.name);
    for (const r of config.routes) if (r.name !== null) names.set(r.id, r.name);
    for (const c of config.consumers) if (c.username !== null) names.set(c.id, c.username);
    for (const u of config.upstreams) names.set(u.id, u.name);
    for (const g of config.consumer_groups) names.set(g.id, g.name);
  }
  const changes: EntityChange[] = [];
  let unchanged = 0;
  for (const section of SECTIONS) {
    const old = new Map(entities(before, section).map((e) => [e.id, e]));
    const now = entities(after, section);
    for (const e of now) {
      const previous = old.get(e.id);
      if (previous === undefined) {
        changes.push({ action: 'create', section, id: e.id, label: label(section, e, names), fields: [] });
        continue;
      }
      old.delete(e.id);
      const fields = changedFields(previous, e);
      if (fields.length === 0) unchanged++;
      else changes.push({ action: 'update', section, id: e.id, label: label(section, e, names), fields });
    }
    for (const e of old.values()) changes.push({ action: 'delete', section, id: e.id, label: label(section, e, names), fields: [] });
  }
  return { changes, unchanged };
}

/** One line per change: `creating service a`, `updating route r (paths, strip_path)`. */
export function formatChanges(changes: readonly EntityChange[]): string[] {
  const verb = { create: 'creating', update: 'updating', delete: 'deleting' } as const;
  return changes.map((c) => `${verb[c.action]} ${c.label}${c.fields.length > 0 ? ` (${c.fields.join(', ')})` : ''}`);
}

/** `created 2, updated 1, deleted 0, unchanged 3`. */
export function formatSummary(diff: ConfigDiff, options: { deletes: boolean }): string {
  const count = (action: EntityChange['action']): number => diff.changes.filter((c) => c.action === action).length;
  const parts = [`created ${count('create')}`, `updated ${count('update')}`];
  if (options.deletes) parts.push(`deleted ${count('delete')}`);
  parts.push(`unchanged ${diff.unchanged}`);
  return parts.join(', ');
}
