/**
 * Gives every entity its final id and turns references (by name or id, as strings or `{name}`/`{id}`
 * objects, or implied by nesting) into ids. A reference that finds nothing is an error at the
 * reference's own path. Ids are resolved in dependency order: services, consumers and certificates
 * first, then routes (their derived id uses their service), consumer groups, then plugins (theirs
 * uses their scope) and group memberships.
 */
import { type Drafts, type PluginDraft, type Raw, type RouteDraft, stringField } from './collect.js';
import { CREDENTIAL_KEYS, CREDENTIAL_KINDS } from './credential-kinds.js';
import { formatTargetAddress } from './target-address.js';
import type { ErrorList } from './errors.js';
import { derivedId } from './identity.js';
import { isRecord, joinPath } from './paths.js';

interface Target {
  readonly id: string;
  readonly raw: Raw;
}

interface Index<T extends Target> {
  readonly kind: string;
  readonly byId: Map<string, T>;
  readonly byName: Map<string, T>;
}

function explicitId(raw: Raw): string | undefined {
  return stringField(raw, 'id')?.toLowerCase();
}

function buildIndex<T extends Target>(kind: string, items: readonly T[], nameField: string): Index<T> {
  const byId = new Map<string, T>();
  const byName = new Map<string, T>();
  for (const item of items) {
    if (!byId.has(item.id)) byId.set(item.id, item);
    const name = stringField(item.raw, nameField);
    if (name !== undefined && !byName.has(name)) byName.set(name, item);
  }
  return { kind, byId, byName };
}

/**
 * Finds what `ref` names: a string is an id or a name (id first, as decK); an object names `id`
 * and/or one of `nameKeys`. Reports at `at` and returns null when nothing matches; returns undefined
 * when there is no usable reference (absent, or malformed and already reported by the schema).
 */
function lookup<T extends Target>(
  ref: unknown,
  index: Index<T>,
  nameKeys: readonly string[],
  at: string,
  errors: ErrorList,
): T | null | undefined {
  if (typeof ref === 'string') {
    const found = index.byId.get(ref.toLowerCase()) ?? index.byName.get(ref) ?? null;
    if (found === null) errors.add(at, `${index.kind} '${ref}' not found`);
    return found;
  }
  if (!isRecord(ref)) return undefined;
  const id = typeof ref.id === 'string' ? ref.id : undefined;
  const name = nameKeys.map((k) => ref[k]).find((v): v is string => typeof v === 'string');
  if (id === undefined && name === undefined) return undefined;
  const found = (id !== undefined ? index.byId.get(id.toLowerCase()) : index.byName.get(name ?? '')) ?? null;
  if (found === null) errors.add(at, `${index.kind} '${id ?? name ?? ''}' not found`);
  else if (id !== undefined && name !== undefined && index.byName.get(name) !== found) {
    errors.add(at, `id '${id}' and name '${name}' refer to different ${index.kind}s`);
  }
  return found;
}

function label(raw: Raw, nameField: string, id: string): string {
  return stringField(raw, nameField) ?? id;
}

function resolveRoutes(drafts: Drafts, services: Index<Target>, errors: ErrorList): void {
  const unnamedCount = new Map<string, number>();
  for (const route of drafts.routes) {
    const at = joinPath(route.path, 'service');
    const target = lookup(route.raw.service, services, ['name'], at, errors);
    if (route.parent !== null && target != null && target !== route.parent) {
      errors.add(at, `must be the enclosing service '${label(route.parent.raw, 'name', route.parent.id)}' or be omitted`);
    }
    route.serviceId = route.parent?.id ?? target?.id ?? null;
    const name = stringField(route.raw, 'name');
    const scope = route.serviceId ?? 'none';
    const ordinal = unnamedCount.get(scope) ?? 0;
    if (name === undefined) unnamedCount.set(scope, ordinal + 1);
    route.id = explicitId(route.raw) ?? derivedId('route', name !== undefined ? `name:${name}` : `service:${scope}#${ordinal}`);
  }
}

type Scope = 'service' | 'route' | 'consumer' | 'consumer_group';
const SCOPES = ['service', 'route', 'consumer', 'consumer_group'] as const;
const SCOPE_NAME_KEYS: Record<Scope, readonly string[]> = { service: ['name'], route: ['name'], consumer: ['username', 'name'], consumer_group: ['name'] };

function resolvePlugin(plugin: PluginDraft, indexes: Record<Scope, Index<Target>>, errors: ErrorList): void {
  const ids: Record<Scope, string | null> = { service: null, route: null, consumer: null, consumer_group: null };
  for (const scope of SCOPES) {
    const at = joinPath(plugin.path, scope);
    const target = lookup(plugin.raw[scope], indexes[scope], SCOPE_NAME_KEYS[scope], at, errors);
    if (target === null) plugin.resolved = false;
    const parent = plugin.parent?.kind === scope ? plugin.parent : null;
    if (parent !== null && target != null && target !== parent) {
      const nameField = scope === 'consumer' ? 'username' : 'name';
      errors.add(at, `must be the enclosing ${scope.replace('_', ' ')} '${label(parent.raw, nameField, parent.id)}' or be omitted`);
    }
    ids[scope] = parent?.id ?? target?.id ?? null;
  }
  plugin.serviceId = ids.service;
  plugin.routeId = ids.route;
  plugin.consumerId = ids.consumer;
  plugin.consumerGroupId = ids.consumer_group;
  // The group joins the identity only when there is one, so the ids of every other plugin stay what they were.
  const group = ids.consumer_group === null ? '' : `|consumer_group:${ids.consumer_group}`;
  const scope = `service:${ids.service ?? ''}|route:${ids.route ?? ''}|consumer:${ids.consumer ?? ''}${group}`;
  const identity = `${stringField(plugin.raw, 'name') ?? ''}|${scope}|instance:${stringField(plugin.raw, 'instance_name') ?? ''}`;
  plugin.id = explicitId(plugin.raw) ?? derivedId('plugin', identity);
}

/** Each membership finds its group and its consumer (one by nesting, the other by reference). */
function resolveMemberships(drafts: Drafts, groups: Index<Target>, consumers: Index<Target>, errors: ErrorList): void {
  for (const m of drafts.memberships) {
    const group = 'kind' in m.group ? m.group : lookup(m.group.ref, groups, ['name'], m.path, errors);
    const consumer = 'kind' in m.consumer ? m.consumer : lookup(m.consumer.ref, consumers, ['username', 'name'], m.path, errors);
    m.groupId = group?.id ?? null;
    m.consumerId = consumer?.id ?? null;
  }
}

/** A `client_certificate` reference (`<id>` or `{ id }`) that names no certificate is an error at its path. */
function checkClientCertificate(owner: { readonly raw: Raw; readonly path: string }, certificates: Index<Target>, errors: ErrorList): void {
  const ref = owner.raw.client_certificate;
  const certId = typeof ref === 'string' ? ref : isRecord(ref) && typeof ref.id === 'string' ? ref.id : undefined;
  if (certId !== undefined && !certificates.byId.has(certId.toLowerCase())) {
    errors.add(joinPath(owner.path, 'client_certificate'), `certificate '${certId}' not found`);
  }
}

/** Upstream ids from their names; targets find their upstream (nesting, or `upstream` by id or name) and get ids from it and their address. */
function resolveUpstreams(drafts: Drafts, certificates: Index<Target>, errors: ErrorList): void {
  drafts.upstreams.forEach((u, i) => {
    const name = stringField(u.raw, 'name');
    u.id = explicitId(u.raw) ?? derivedId('upstream', name !== undefined ? `name:${name}` : `index:${i}`);
    checkClientCertificate(u, certificates, errors);
  });
  const upstreams = buildIndex('upstream', drafts.upstreams, 'name');
  drafts.targets.forEach((t, i) => {
    const found = t.parent ?? lookup(t.raw.upstream, upstreams, ['name'], joinPath(t.path, 'upstream'), errors) ?? null;
    t.upstreamId = found?.id ?? null;
    const text = stringField(t.raw, 'target');
    const address = text === undefined ? null : formatTargetAddress(text);
    t.id = explicitId(t.raw) ?? derivedId('target', found !== null && address !== null ? `upstream:${found.id}|${address}` : `index:${i}`);
  });
}

function resolveServiceCertificates(drafts: Drafts, errors: ErrorList): void {
  const certificates = buildIndex('certificate', drafts.certificates, 'id');
  const cas = buildIndex('ca_certificate', drafts.caCertificates, 'id');
  resolveUpstreams(drafts, certificates, errors);
  for (const service of drafts.services) {
    checkClientCertificate(service, certificates, errors);
    const list = service.raw.ca_certificates;
    if (!Array.isArray(list)) continue;
    list.forEach((id: unknown, i) => {
      if (typeof id === 'string' && !cas.byId.has(id.toLowerCase())) {
        errors.add(joinPath(joinPath(service.path, 'ca_certificates'), i), `ca_certificate '${id}' not found`);
      }
    });
  }
}

/**
 * Credentials find their consumer (nesting, or `consumer` by id or username) and get ids from it:
 * with the group for an ACL, with the position among the consumer's keys for a key (never the key).
 */
function resolveCredentials(drafts: Drafts, consumers: Index<Target>, errors: ErrorList): void {
  for (const key of CREDENTIAL_KEYS) {
    const kind = CREDENTIAL_KINDS[key];
    const positions = new Map<string, number>();
    drafts.credentials[key].forEach((c, i) => {
      const found = c.parent ?? lookup(c.raw.consumer, consumers, ['username', 'name'], joinPath(c.path, 'consumer'), errors) ?? null;
      c.consumerId = found?.id ?? null;
      const position = positions.get(c.consumerId ?? '') ?? 0;
      positions.set(c.consumerId ?? '', position + 1);
      const unique = stringField(c.raw, kind.unique.field);
      const identity = found === null
        ? `index:${i}`
        : !kind.unique.secret && unique !== undefined ? `consumer:${found.id}|${unique}` : `consumer:${found.id}#${position}`;
      c.id = explicitId(c.raw) ?? derivedId(kind.entity, identity);
    });
  }
}

/** Assigns ids and resolves every reference; see the module comment. */
export function resolveReferences(drafts: Drafts, errors: ErrorList): void {
  for (const s of drafts.services) {
    const name = stringField(s.raw, 'name');
    s.id = explicitId(s.raw) ?? derivedId('service', name !== undefined ? `name:${name}` : `index:${s.index}`);
  }
  drafts.consumers.forEach((c, i) => {
    const username = stringField(c.raw, 'username');
    const customId = stringField(c.raw, 'custom_id');
    const identity = username !== undefined ? `username:${username}` : customId !== undefined ? `custom_id:${customId}` : `index:${i}`;
    c.id = explicitId(c.raw) ?? derivedId('consumer', identity);
  });
  drafts.caCertificates.forEach((ca, i) => {
    ca.id = explicitId(ca.raw) ?? derivedId('ca_certificate', ca.digest !== null ? `sha256:${ca.digest}` : `index:${i}`);
  });
  // Kong allows one certificate in several entities (each with its own SNIs): count repeats.
  const seen = new Map<string, number>();
  drafts.certificates.forEach((cert, i) => {
    const repeat = seen.get(cert.digest ?? '') ?? 0;
    if (cert.digest !== null) seen.set(cert.digest, repeat + 1);
    const identity = cert.digest !== null ? `sha256:${cert.digest}#${repeat}` : `index:${i}`;
    cert.id = explicitId(cert.raw) ?? derivedId('certificate', identity);
  });
  const services = buildIndex('service', drafts.services, 'name');
  resolveRoutes(drafts, services, errors);
  const routes = buildIndex<RouteDraft>('route', drafts.routes, 'name');
  const consumers = buildIndex('consumer', drafts.consumers, 'username');
  drafts.consumerGroups.forEach((g, i) => {
    const name = stringField(g.raw, 'name');
    g.id = explicitId(g.raw) ?? derivedId('consumer_group', name !== undefined ? `name:${name}` : `index:${i}`);
  });
  const groups = buildIndex('consumer group', drafts.consumerGroups, 'name');
  for (const plugin of drafts.plugins) resolvePlugin(plugin, { service: services, route: routes, consumer: consumers, consumer_group: groups }, errors);
  resolveMemberships(drafts, groups, consumers, errors);
  resolveCredentials(drafts, consumers, errors);
  resolveServiceCertificates(drafts, errors);
}
