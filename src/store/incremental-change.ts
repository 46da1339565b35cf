/**
 * Changes of consumers and their credentials made without checking, normalising and hashing the
 * whole configuration again: with 100,000 consumers, each full pass costs seconds, and creating one
 * consumer touches one entity.
 *
 * The entities that changed are loaded as a small document of their own, with the consumers their
 * credentials belong to (taken from the current configuration), by the same `loadConfigObject` as
 * everything else: their schema, rules, defaults and references are checked and normalised exactly
 * as in a whole document. What a small document cannot see is the rest of the configuration:
 *
 *   - uniqueness against the other entities (a username, custom_id, API key, basic-auth username,
 *     JWT key, an ACL group within its consumer, an id): `createLeafEntity` looks for each in the
 *     current configuration and, if it is taken, declines, so that the whole-document path reports
 *     the conflict with its usual error;
 *   - what other entities say of these (a plugin's `anonymous` consumer, a group's members, a
 *     plugin scoped to a consumer): a new entity breaks none of them (they can only name entities
 *     that already exist), so creations are safe; a follower applying another node's changes
 *     (`applyStoredChanges`) only has to rebuild what the writer already checked as a whole, and
 *     it compares the result with the writer's configuration hash before using it.
 *
 * Anything else (services, routes, plugins, groups, certificates, upstreams; an update or delete on
 * the writer) goes through the whole-document path.
 */
import { randomUUID } from 'node:crypto';
import { byId, indexBy } from '../config/by-id.js';
import { derivedFrom } from '../config/list-lineage.js';
import { CREDENTIAL_KEYS, CREDENTIAL_KINDS, type CredentialKey } from '../config/credential-kinds.js';
import { exportConfig, type DeckDocument, type ExportOptions } from '../config/export.js';
import { emptyConfig, loadConfigObject } from '../config/index.js';
import type { Config, Consumer } from '../config/types.js';
import type { PluginSchema } from '../pipeline/plugin.js';
import type { EntityChanges, StoredEntity } from './config-store.js';

/** The canonical document's form (see config-manager.ts): references by id, credentials top level. */
export const CANONICAL: ExportOptions = { references: 'id', children: 'flat' };

/** Sections whose entities nothing but their own credentials depends on, for routing or for plugins. */
export type LeafSection = 'consumers' | CredentialKey;
const LEAF_SECTIONS: ReadonlySet<string> = new Set<string>(['consumers', ...CREDENTIAL_KEYS]);

export function isLeafSection(section: string): section is LeafSection {
  return LEAF_SECTIONS.has(section);
}

type Raw = Record<string, unknown>;
type Plugins = ReadonlyMap<string, PluginSchema>;
type Entity = { readonly id: string } & Readonly<Record<string, unknown>>;

function list(config: Config, section: LeafSection): readonly Entity[] {
  return config[section] as unknown as readonly Entity[];
}

/** The canonical-document form of one consumer of `config`. */
function canonicalConsumer(consumer: Consumer): Raw {
  return (exportConfig({ ...emptyConfig(), consumers: [consumer] }, CANONICAL).consumers as Raw[])[0]!;
}

/**
 * Loads `entries` (canonical entities of leaf sections, each with its id) as a document of their
 * own, with the consumers of their credentials from `base`; the normalised entities by section and
 * id, or null when that document does not load (the whole-document path then says why).
 */
function loadEntries(base: Config, entries: readonly StoredEntity[], plugins: Plugins): Map<string, Entity> | null {
  const doc: Record<string, Raw[]> = {};
  const add = (section: string, raw: Raw): void => {
    (doc[section] ??= []).push(raw);
  };
  const consumers = new Set(entries.filter((e) => e.section === 'consumers').map((e) => e.entity.id));
  const existing = byId(base.consumers);
  for (const { section, entity } of entries) {
    add(section, entity);
    const owner = section === 'consumers' ? null : entity['consumer'];
    if (typeof owner !== 'string' || consumers.has(owner)) continue;
    const consumer = existing.get(owner.toLowerCase());
    if (consumer === undefined) return null; // a dangling reference: the whole document reports it
    consumers.add(consumer.id);
    add('consumers', canonicalConsumer(consumer));
  }
  const loaded = loadConfigObject({ _format_version: base._format_version, ...doc }, { plugins, entityAtATime: true });
  if (!loaded.ok) return null;
  const out = new Map<string, Entity>();
  for (const { section, entity } of entries) {
    const normalised = list(loaded.config, section as LeafSection).find((e) => e.id === entity.id);
    if (normalised === undefined) return null;
    out.set(`${section}:${entity.id}`, normalised);
  }
  return out;
}

/** `base` with the given entities replaced in place (same id) or appended, and the deleted ones removed. */
function withEntities(base: Config, upserts: ReadonlyArray<{ section: LeafSection; entity: Entity }>, deletes: ReadonlyArray<{ section: LeafSection; id: string }>): Config {
  const lists = new Map<LeafSection, Entity[]>();
  const edit = (section: LeafSection): Entity[] => {
    let items = lists.get(section);
    if (items === undefined) {
      items = [...list(base, section)];
      lists.set(section, items);
    }
    return items;
  };
  for (const { section, id } of deletes) {
    const items = edit(section);
    const at = items.findIndex((e) => e.id === id);
    if (at >= 0) items.splice(at, 1);
  }
  for (const { section, entity } of upserts) {
    const items = edit(section);
    const at = items.findIndex((e) => e.id === entity.id);
    if (at >= 0) items[at] = entity;
    else items.push(entity);
  }
  const next: Record<string, unknown> = { ...base };
  for (const [section, items] of lists) {
    next[section] = Object.freeze(items);
    derivedFrom(items, list(base, section));
  }
  return Object.freeze(next) as unknown as Config;
}

/** Whether `value` of `field` is taken in `section` (within `consumer` when given). */
function taken(config: Config, section: LeafSection, field: string, value: unknown, consumer: unknown = undefined): boolean {
  if (typeof value !== 'string') return value !== undefined && value !== null && list(config, section).some((e) => e[field] === value);
  const scoped = consumer !== undefined;
  const index = indexBy(list(config, section), `${section}.${field}${scoped ? '@consumer' : ''}`, (e) => {
    const own = e[field];
    return typeof own !== 'string' ? null : scoped ? JSON.stringify([e['consumer'], own]) : own;
  });
  return index.has(scoped ? JSON.stringify([consumer, value]) : value);
}

/** Unique fields of a new entity of `section` that another entity of `base` already has. */
function conflicts(base: Config, section: LeafSection, entity: Raw): boolean {
  if (typeof entity.id === 'string' && byId(list(base, section)).has(entity.id)) return true;
  if (section === 'consumers') return taken(base, section, 'username', entity.username) || taken(base, section, 'custom_id', entity.custom_id);
  const { field, across } = CREDENTIAL_KINDS[section].unique;
  return taken(base, section, field, entity[field], across === 'consumer' ? (typeof entity.consumer === 'string' ? entity.consumer : '').toLowerCase() : undefined);
}

export interface LeafCreation {
  readonly config: Config;
  readonly id: string;
  /** What the store writes: the entity in the canonical document's form. */
  readonly changes: EntityChanges;
}

/**
 * The configuration with one new consumer or credential (`body`: its fields as the admin API took
 * them), checked on its own; null when it cannot be decided without the whole document (a value
 * that may be taken, anything that does not load).
 */
export function createLeafEntity(base: Config, section: LeafSection, body: Raw, plugins: Plugins): LeafCreation | null {
  const id = typeof body.id === 'string' ? body.id.toLowerCase() : randomUUID();
  const raw: Raw = { ...body, id };
  if (conflicts(base, section, raw)) return null;
  const loaded = loadEntries(base, [{ section, entity: raw as StoredEntity['entity'] }], plugins);
  const entity = loaded?.get(`${section}:${id}`);
  if (entity === undefined) return null;
  const config = withEntities(base, [{ section, entity }], []);
  const stored = (exportConfig({ ...emptyConfig(), [section]: [entity] }, CANONICAL)[section] as Array<StoredEntity['entity']>)[0]!;
  return { config, id, changes: { upserts: [{ section, entity: stored }], deletes: [] } };
}

/**
 * `base` with changes another node stored (already checked there, with its whole configuration),
 * or null when they touch more than consumers and credentials or do not load on their own: the
 * caller then loads the whole stored configuration.
 */
export function applyStoredChanges(base: Config, changes: EntityChanges, plugins: Plugins): Config | null {
  if (![...changes.upserts, ...changes.deletes].every((c) => isLeafSection(c.section))) return null;
  const loaded = changes.upserts.length === 0 ? new Map<string, Entity>() : loadEntries(base, changes.upserts, plugins);
  if (loaded === null) return null;
  const upserts = changes.upserts.map(({ section, entity }) => ({ section: section as LeafSection, entity: loaded.get(`${section}:${entity.id}`)! }));
  return withEntities(base, upserts, changes.deletes as ReadonlyArray<{ section: LeafSection; id: string }>);
}

/** Whole-document fallback helpers share the canonical export. */
export function canonicalDocument(config: Config): DeckDocument {
  return exportConfig(config, CANONICAL);
}
