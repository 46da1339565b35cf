/**
 * Flattens the document into one list per entity kind, remembering where each entity was written
 * (its path, for error messages) and what it was nested under (its implied service/route/consumer).
 * It reads defensively: it also runs on documents that failed schema validation, so that reference
 * and duplicate problems are reported in the same pass; entries that are not objects are skipped.
 *
 * Order is document order: services (each with its own plugins, then its routes and theirs),
 * top-level routes, consumers, consumer groups (each with its plugins), top-level plugins,
 * certificates, then upstreams (each with its targets) and top-level targets, credentials (nested
 * under consumers first, then top level), and group memberships (under groups, then under consumers).
 * `Route.order` comes from here.
 */
import { CREDENTIAL_KEYS, type CredentialKey } from './credential-kinds.js';
import { isRecord, joinPath } from './paths.js';

export type Raw = Record<string, unknown>;

interface DraftBase {
  /** Where the entity was written, e.g. `services[0].routes[1]`. */
  readonly path: string;
  /** The entity as validated: defaults applied, YAML allowances made. */
  readonly raw: Raw;
  /** Final id (explicit, or derived in `resolve.ts`). */
  id: string;
}

export interface ServiceDraft extends DraftBase {
  readonly kind: 'service';
  readonly index: number;
}
export interface RouteDraft extends DraftBase {
  readonly kind: 'route';
  readonly parent: ServiceDraft | null;
  serviceId: string | null;
  /** `strip_path` as written, before schema defaults (gRPC routes refuse a written true); undefined when absent. */
  writtenStripPath?: unknown;
}
export interface ConsumerDraft extends DraftBase {
  readonly kind: 'consumer';
}
export interface ConsumerGroupDraft extends DraftBase {
  readonly kind: 'consumer_group';
}
/**
 * One membership as written: `consumer_groups[i].consumers[j]` (the group by nesting, the consumer
 * by reference) or `consumers[i].groups[j]` (the other way round).
 */
export interface MembershipDraft {
  readonly path: string;
  readonly group: ConsumerGroupDraft | { readonly ref: unknown };
  readonly consumer: ConsumerDraft | { readonly ref: unknown };
  groupId: string | null;
  consumerId: string | null;
}
export interface PluginDraft extends DraftBase {
  readonly kind: 'plugin';
  readonly parent: ServiceDraft | RouteDraft | ConsumerDraft | ConsumerGroupDraft | null;
  serviceId: string | null;
  routeId: string | null;
  consumerId: string | null;
  consumerGroupId: string | null;
  /** False when one of its references dangles; such a plugin is left out of the duplicate check. */
  resolved: boolean;
}
export interface CaCertificateDraft extends DraftBase {
  readonly kind: 'ca_certificate';
  /** SHA-256 hex of the DER certificate, once it parsed. */
  digest: string | null;
}
export interface CertificateDraft extends DraftBase {
  readonly kind: 'certificate';
  digest: string | null;
}

export interface UpstreamDraft extends DraftBase {
  readonly kind: 'upstream';
}
export interface TargetDraft extends DraftBase {
  readonly kind: 'target';
  readonly parent: UpstreamDraft | null;
  upstreamId: string | null;
}

export interface CredentialDraft extends DraftBase {
  readonly kind: CredentialKey;
  readonly parent: ConsumerDraft | null;
  consumerId: string | null;
}

export interface Drafts {
  readonly services: ServiceDraft[];
  readonly routes: RouteDraft[];
  readonly consumers: ConsumerDraft[];
  readonly consumerGroups: ConsumerGroupDraft[];
  /** Consumer-group memberships, those under consumer groups first, then those under consumers. */
  readonly memberships: MembershipDraft[];
  readonly plugins: PluginDraft[];
  readonly caCertificates: CaCertificateDraft[];
  readonly certificates: CertificateDraft[];
  readonly upstreams: UpstreamDraft[];
  readonly targets: TargetDraft[];
  /** Per credential kind, the nested ones (in consumer order) before the top-level ones. */
  readonly credentials: Record<CredentialKey, CredentialDraft[]>;
}

function eachObject(list: unknown, path: string, visit: (raw: Raw, path: string, index: number) => void): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, index) => {
    if (isRecord(item)) visit(item, joinPath(path, index), index);
  });
}

/** Flattens a (possibly invalid) document; see the module comment. */
export function collectEntities(doc: Raw): Drafts {
  const credentials = Object.fromEntries(CREDENTIAL_KEYS.map((k) => [k, []])) as unknown as Record<CredentialKey, CredentialDraft[]>;
  const drafts: Drafts = { services: [], routes: [], consumers: [], consumerGroups: [], memberships: [], plugins: [], caCertificates: [], certificates: [], upstreams: [], targets: [], credentials };
  const plugins = (owner: Raw, ownerPath: string, parent: PluginDraft['parent']): void =>
    eachObject(owner.plugins, joinPath(ownerPath, 'plugins'), (raw, path) => {
      drafts.plugins.push({ kind: 'plugin', path, raw, parent, id: '', serviceId: null, routeId: null, consumerId: null, consumerGroupId: null, resolved: true });
    });
  const route = (raw: Raw, path: string, parent: ServiceDraft | null): void => {
    const draft: RouteDraft = { kind: 'route', path, raw, parent, id: '', serviceId: null };
    drafts.routes.push(draft);
    plugins(raw, path, draft);
  };

  eachObject(doc.services, 'services', (raw, path, index) => {
    const service: ServiceDraft = { kind: 'service', path, raw, index, id: '' };
    drafts.services.push(service);
    plugins(raw, path, service);
    eachObject(raw.routes, joinPath(path, 'routes'), (r, p) => route(r, p, service));
  });
  eachObject(doc.routes, 'routes', (raw, path) => route(raw, path, null));
  eachObject(doc.consumers, 'consumers', (raw, path) => {
    const consumer: ConsumerDraft = { kind: 'consumer', path, raw, id: '' };
    drafts.consumers.push(consumer);
    plugins(raw, path, consumer);
    for (const key of CREDENTIAL_KEYS) {
      eachObject(raw[key], joinPath(path, key), (c, p) => credentials[key].push({ kind: key, path: p, raw: c, parent: consumer, id: '', consumerId: null }));
    }
  });
  const byConsumer: MembershipDraft[] = [];
  drafts.consumers.forEach((consumer) => {
    if (!Array.isArray(consumer.raw.groups)) return;
    consumer.raw.groups.forEach((ref: unknown, j) => {
      byConsumer.push({ path: joinPath(joinPath(consumer.path, 'groups'), j), group: { ref }, consumer, groupId: null, consumerId: null });
    });
  });
  eachObject(doc.consumer_groups, 'consumer_groups', (raw, path) => {
    const group: ConsumerGroupDraft = { kind: 'consumer_group', path, raw, id: '' };
    drafts.consumerGroups.push(group);
    plugins(raw, path, group);
    if (!Array.isArray(raw.consumers)) return;
    raw.consumers.forEach((ref: unknown, j) => {
      drafts.memberships.push({ path: joinPath(joinPath(path, 'consumers'), j), group, consumer: { ref }, groupId: null, consumerId: null });
    });
  });
  drafts.memberships.push(...byConsumer);
  plugins(doc, '', null);
  eachObject(doc.ca_certificates, 'ca_certificates', (raw, path) => {
    drafts.caCertificates.push({ kind: 'ca_certificate', path, raw, id: '', digest: null });
  });
  eachObject(doc.certificates, 'certificates', (raw, path) => {
    drafts.certificates.push({ kind: 'certificate', path, raw, id: '', digest: null });
  });
  eachObject(doc.upstreams, 'upstreams', (raw, path) => {
    const upstream: UpstreamDraft = { kind: 'upstream', path, raw, id: '' };
    drafts.upstreams.push(upstream);
    eachObject(raw.targets, joinPath(path, 'targets'), (t, p) => drafts.targets.push({ kind: 'target', path: p, raw: t, parent: upstream, id: '', upstreamId: null }));
  });
  eachObject(doc.targets, 'targets', (raw, path) => drafts.targets.push({ kind: 'target', path, raw, parent: null, id: '', upstreamId: null }));
  for (const key of CREDENTIAL_KEYS) {
    eachObject(doc[key], key, (raw, path) => credentials[key].push({ kind: key, path, raw, parent: null, id: '', consumerId: null }));
  }
  return drafts;
}

/** A string field, or undefined when absent or of another type (already reported by the schema). */
export function stringField(raw: Raw, key: string): string | undefined {
  const value = raw[key];
  return typeof value === 'string' ? value : undefined;
}

/** The strings of a list field, with their indexes; non-strings are skipped. */
export function stringItems(raw: Raw, key: string): Array<[string, number]> {
  const value = raw[key];
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown, i): Array<[string, number]> => (typeof item === 'string' ? [[item, i]] : []));
}
