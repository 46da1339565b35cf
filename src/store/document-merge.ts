/**
 * `portcullis apply` and `sync` on the client side, as pure functions over documents:
 *
 * - `adoptIds`: a file entity that matches one the gateway has (see `entity-keys.ts`) and gives no id
 *   gets the existing id, so an apply updates in place and what refers to the entity keeps working.
 * - `mergeForApply`: the file's sections first, exactly as written (nesting kept), then every entity
 *   of the gateway the file does not mention. Validating that document checks the file against the
 *   gateway's state (a plugin naming `route: example-route` resolves), and because the file's entries
 *   keep their positions, every error path is the path in the user's file.
 *
 * Only ids are added to the user's entities, never fields, so nothing else about them changes.
 */
import type { DeckDocument } from '../config/export.js';
import { formatTargetAddress } from '../config/target-address.js';
import type { Config, ConfigError } from '../config/types.js';
import { CREDENTIAL_KEYS } from '../config/credential-kinds.js';
import { aclKey, certificateKey, indexKeys, perSection, pluginKey, SECTIONS, targetKey, type KeyIndex, type Section } from './entity-keys.js';

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objects(list: unknown): Raw[] {
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

function str(raw: Raw, key: string): string | null {
  const v = raw[key];
  return typeof v === 'string' ? v : null;
}

/** Every entity of a (possibly nested) document, by section, in document order. */
export function entitiesOf(doc: Raw): Record<Section, Array<{ raw: Raw; parent: { section: Section; raw: Raw } | null }>> {
  const out: ReturnType<typeof entitiesOf> = perSection(() => []);
  const plugins = (owner: Raw, section: Section | null): void => {
    for (const p of objects(owner.plugins)) out.plugins.push({ raw: p, parent: section === null ? null : { section, raw: owner } });
  };
  for (const s of objects(doc.services)) {
    out.services.push({ raw: s, parent: null });
    plugins(s, 'services');
    for (const r of objects(s.routes)) {
      out.routes.push({ raw: r, parent: { section: 'services', raw: s } });
      plugins(r, 'routes');
    }
  }
  for (const r of objects(doc.routes)) {
    out.routes.push({ raw: r, parent: null });
    plugins(r, 'routes');
  }
  for (const c of objects(doc.consumers)) {
    out.consumers.push({ raw: c, parent: null });
    plugins(c, 'consumers');
    for (const key of CREDENTIAL_KEYS) for (const k of objects(c[key])) out[key].push({ raw: k, parent: { section: 'consumers', raw: c } });
  }
  for (const g of objects(doc.consumer_groups)) {
    out.consumer_groups.push({ raw: g, parent: null });
    plugins(g, 'consumer_groups');
  }
  plugins(doc, null);
  for (const ca of objects(doc.ca_certificates)) out.ca_certificates.push({ raw: ca, parent: null });
  for (const c of objects(doc.certificates)) out.certificates.push({ raw: c, parent: null });
  for (const u of objects(doc.upstreams)) {
    out.upstreams.push({ raw: u, parent: null });
    for (const t of objects(u.targets)) out.targets.push({ raw: t, parent: { section: 'upstreams', raw: u } });
  }
  for (const t of objects(doc.targets)) out.targets.push({ raw: t, parent: null });
  for (const key of CREDENTIAL_KEYS) for (const k of objects(doc[key])) out[key].push({ raw: k, parent: null });
  return out;
}

function naturalKeys(section: Section, raw: Raw): string[] {
  switch (section) {
    case 'services':
    case 'routes':
    case 'upstreams':
    case 'consumer_groups':
      return str(raw, 'name') === null ? [] : [`name:${str(raw, 'name')}`];
    case 'consumers':
      return [str(raw, 'username') === null ? '' : `username:${str(raw, 'username')}`, str(raw, 'custom_id') === null ? '' : `custom_id:${str(raw, 'custom_id')}`].filter(Boolean);
    case 'ca_certificates':
    case 'certificates':
      return [certificateKey(raw.cert)].filter((k): k is string => k !== null);
    case 'keyauth_credentials':
    case 'jwt_secrets':
      return str(raw, 'key') === null ? [] : [`key:${str(raw, 'key')}`];
    case 'basicauth_credentials':
      return str(raw, 'username') === null ? [] : [`username:${str(raw, 'username')}`];
    case 'plugins':
    case 'targets':
    case 'acls':
      return []; // needs its scope (upstream, consumer) resolved: see adoptPluginIds, adoptTargetIds, adoptAclIds
  }
}

type Referenced = 'services' | 'routes' | 'consumers' | 'upstreams' | 'consumer_groups';

/** Resolves a service/route/consumer/upstream/consumer group reference of the file to an id (or a stand-in for a new entity). */
class References {
  readonly #user: Record<Referenced, Raw[]>;
  readonly #base: Config;

  constructor(user: ReturnType<typeof entitiesOf>, base: Config) {
    const raws = (section: Referenced): Raw[] => user[section].map((e) => e.raw);
    this.#user = { services: raws('services'), routes: raws('routes'), consumers: raws('consumers'), upstreams: raws('upstreams'), consumer_groups: raws('consumer_groups') };
    this.#base = base;
  }

  idOf(section: Referenced, raw: Raw): string {
    const id = str(raw, 'id');
    if (id !== null) return id.toLowerCase();
    return `new:${section}:${JSON.stringify(naturalKeys(section, raw))}:${this.#user[section].indexOf(raw)}`;
  }

  resolve(section: Referenced, ref: unknown): string | null {
    const nameField = section === 'consumers' ? 'username' : 'name';
    let id: string | null = null;
    let name: string | null = null;
    if (typeof ref === 'string') {
      id = ref;
      name = ref;
    } else if (isRecord(ref)) {
      id = str(ref, 'id');
      name = str(ref, nameField) ?? str(ref, 'name');
    } else return null;
    const base: ReadonlyArray<{ id: string; name?: string | null; username?: string | null }> = this.#base[section];
    if (id !== null) {
      const lower = id.toLowerCase();
      const user = this.#user[section].find((r) => str(r, 'id')?.toLowerCase() === lower);
      if (user !== undefined || base.some((e) => e.id === lower)) return lower;
    }
    if (name !== null) {
      const user = this.#user[section].find((r) => str(r, nameField) === name);
      if (user !== undefined) return this.idOf(section, user);
      const existing = base.find((e) => (section === 'consumers' ? e.username : e.name) === name);
      if (existing !== undefined) return existing.id;
    }
    return null;
  }
}

function adoptPluginIds(entities: ReturnType<typeof entitiesOf>, refs: References, index: KeyIndex): void {
  const scopeSection = { service: 'services', route: 'routes', consumer: 'consumers', consumer_group: 'consumer_groups' } as const;
  for (const { raw, parent } of entities.plugins) {
    if (raw.id !== undefined) continue;
    const name = str(raw, 'name');
    if (name === null) continue;
    const scope: Record<keyof typeof scopeSection, string | null> = { service: null, route: null, consumer: null, consumer_group: null };
    for (const field of ['service', 'route', 'consumer', 'consumer_group'] as const) {
      const section = scopeSection[field];
      scope[field] = parent?.section === section ? refs.idOf(section, parent.raw) : refs.resolve(section, raw[field]);
    }
    const existing = index.plugins.get(pluginKey(name, scope, str(raw, 'instance_name')));
    if (existing !== undefined) raw.id = existing;
  }
}

/** A target matches the gateway's with the same upstream (nesting, or `upstream`) and address. */
function adoptTargetIds(entities: ReturnType<typeof entitiesOf>, refs: References, index: KeyIndex): void {
  for (const { raw, parent } of entities.targets) {
    const text = str(raw, 'target');
    if (raw.id !== undefined || text === null) continue;
    const address = formatTargetAddress(text);
    const upstream = parent !== null ? refs.idOf('upstreams', parent.raw) : refs.resolve('upstreams', raw.upstream);
    if (address === null || upstream === null) continue;
    const existing = index.targets.get(targetKey(upstream, address));
    if (existing !== undefined) raw.id = existing;
  }
}

/** An ACL matches the gateway's with the same consumer (nesting, or `consumer`) and group. */
function adoptAclIds(entities: ReturnType<typeof entitiesOf>, refs: References, index: KeyIndex): void {
  for (const { raw, parent } of entities.acls) {
    const group = str(raw, 'group');
    if (raw.id !== undefined || group === null) continue;
    const consumer = parent !== null ? refs.idOf('consumers', parent.raw) : refs.resolve('consumers', raw.consumer);
    if (consumer === null) continue;
    const existing = index.acls.get(aclKey(consumer, group));
    if (existing !== undefined) raw.id = existing;
  }
}

/** A copy of `userDoc` in which entities matching the gateway's carry the gateway's ids. */
export function adoptIds(userDoc: unknown, base: Config): unknown {
  if (!isRecord(userDoc)) return userDoc;
  const doc = structuredClone(userDoc);
  const index = indexKeys(base);
  const entities = entitiesOf(doc);
  for (const section of SECTIONS) {
    if (section === 'plugins' || section === 'targets' || section === 'acls') continue;
    for (const { raw } of entities[section]) {
      if (raw.id !== undefined) continue;
      const match = naturalKeys(section, raw).map((k) => index[section].get(k)).find((id) => id !== undefined);
      if (match !== undefined) raw.id = match;
    }
  }
  const refs = new References(entities, base);
  adoptPluginIds(entities, refs, index);
  adoptTargetIds(entities, refs, index);
  adoptAclIds(entities, refs, index);
  return doc;
}

/** Ids (lower-cased) of the entities a document names explicitly, per section. */
function claimedIds(doc: Raw): Record<Section, Set<string>> {
  const entities = entitiesOf(doc);
  const out = {} as Record<Section, Set<string>>;
  for (const section of SECTIONS) {
    out[section] = new Set(entities[section].map((e) => str(e.raw, 'id')?.toLowerCase()).filter((id): id is string => id !== undefined));
  }
  return out;
}

export interface MergedDocument {
  readonly document: DeckDocument;
  /** How many top-level entries of each section come from the user's file; the rest are the gateway's. */
  readonly userCounts: Record<Section, number>;
}

/**
 * Consumer-group memberships are not fields of a consumer or of a group (Kong keeps them in a table
 * of their own), so a file entry that replaces the gateway's consumer or group adds to the
 * memberships the gateway has rather than dropping them: an apply deletes nothing, as decK's.
 */
const MEMBERSHIP_LISTS: Partial<Record<Section, string>> = { consumers: 'groups', consumer_groups: 'consumers' };

function keepMemberships(section: Section, entries: readonly unknown[], base: readonly Raw[]): void {
  const field = MEMBERSHIP_LISTS[section];
  if (field === undefined) return;
  const byId = new Map(base.map((e) => [String(e.id).toLowerCase(), e]));
  for (const entry of objects(entries)) {
    const id = str(entry, 'id');
    const theirs = id === null ? undefined : byId.get(id.toLowerCase())?.[field];
    if (!Array.isArray(theirs) || theirs.length === 0) continue;
    entry[field] = [...(Array.isArray(entry[field]) ? (entry[field] as unknown[]) : []), ...(structuredClone(theirs) as unknown[])];
  }
}

/** The user's file (after `adoptIds`) followed by what the gateway has that the file does not mention. */
export function mergeForApply(userDoc: Raw, baseDoc: DeckDocument): MergedDocument {
  const claimed = claimedIds(userDoc);
  const document: DeckDocument = structuredClone(userDoc);
  const userCounts = {} as Record<Section, number>;
  for (const section of SECTIONS) {
    const own = Array.isArray(userDoc[section]) ? (userDoc[section] as unknown[]) : [];
    userCounts[section] = own.length;
    const kept = objects(baseDoc[section]).filter((e) => !claimed[section].has(String(e.id).toLowerCase()));
    const mine = structuredClone(own);
    keepMemberships(section, mine, objects(baseDoc[section]));
    document[section] = [...mine, ...kept];
  }
  document._format_version ??= baseDoc._format_version;
  return { document, userCounts };
}

/**
 * Error paths of a merged document, made readable for the user: paths in the file stay as they are,
 * paths into entities that came from the gateway name the entity (`gateway route 'r'.service`).
 */
export function relabelErrors(errors: readonly ConfigError[], merged: MergedDocument): ConfigError[] {
  return errors.map((error) => {
    const match = /^([a-z_]+)\[(\d+)\](.*)$/.exec(error.path);
    const section = match?.[1] as Section | undefined;
    if (match === null || section === undefined || !SECTIONS.includes(section)) return error;
    const index = Number(match[2]);
    if (index < merged.userCounts[section]) return error;
    const entity = objects(merged.document[section])[index] ?? {};
    const label = str(entity, 'name') ?? str(entity, 'username') ?? str(entity, 'target') ?? str(entity, 'id') ?? String(index);
    return { path: `gateway ${section.replace(/s$/, '')} '${label}'${match[3] ?? ''}`, message: error.message };
  });
}

/**
 * The merged configuration with routes in the gateway's order, new ones last: the merge put the
 * file's routes first, but a route's position is its tie-breaker in matching (Kong's `created_at`),
 * so an apply must not move existing routes ahead of others.
 */
export function keepRouteOrder(next: Config, base: Config): Config {
  const position = new Map(base.routes.map((r, i) => [r.id, i]));
  const rank = (id: string, i: number): number => position.get(id) ?? base.routes.length + i;
  const routes = next.routes.map((r, i) => ({ r, key: rank(r.id, i) })).sort((a, b) => a.key - b.key).map(({ r }) => r);
  return { ...next, routes };
}
