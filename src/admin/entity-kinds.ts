/**
 * The entities of the admin API: where they live in the configuration, how a URL segment finds one
 * (`/services/{id or name}`), and how they are shown. Shown as Kong shows them: references as
 * `{ "id": … }` or null, every field present, and certificates without their private keys unless
 * the caller asked for them (`?include_private_keys=true`). Targets are only reached through their
 * upstream (`/upstreams/{u}/targets`, see `target-routes.ts`): Kong has no `/targets` collection.
 */
import { byId, indexByKeys } from '../config/by-id.js';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/types.js';
import type { Section } from '../store/entity-keys.js';
import { CREDENTIAL_KEYS, CREDENTIAL_KINDS } from '../config/credential-kinds.js';
import { withUnsetFields } from './unset-fields.js';

type Entity = { readonly id: string } & Readonly<Record<string, unknown>>;

export interface PresentOptions {
  readonly privateKeys: boolean;
  /** A plugin's config schema by plugin name, so unset config fields can be shown as null (as Kong). */
  readonly configSchemaOf?: (plugin: string) => unknown;
}

export interface EntityKind {
  /** URL segment and config section. */
  readonly section: Section;
  /** `service`, for messages. */
  readonly label: string;
  /** Fields a non-id URL segment is matched against. */
  readonly nameFields: readonly string[];
  /** The field by which a plugin points at an entity of this kind (plugins cascade on delete). */
  readonly pluginScope: 'service' | 'route' | 'consumer' | 'consumer_group' | null;
  /** Entities deleted with one of this kind (Kong's `on_delete = "cascade"`): their section and the field pointing here. */
  readonly cascade?: ReadonlyArray<{ readonly section: Section; readonly field: string }>;
  /** The URL segment of the collection when it is not the section (`/key-auths` for keyauth_credentials). */
  readonly segment?: string;
  /** Fields that name one below its parent (`/consumers/{c}/acls/{group}`), when not `nameFields`. */
  readonly scopedNameFields?: readonly string[];
  /** Fills what Kong generates on create when the body leaves it out (a key-auth credential's key). */
  generate?(body: Record<string, unknown>): void;
  /** decK-file members that are not fields of the entity (nesting): refused in a request body, as Kong refuses an unknown field. */
  readonly fileOnly?: readonly string[];
  /** Members of the stored entity that a PUT keeps (a group's members: Kong's membership is a table of its own, not a field). */
  readonly keptOnReplace?: readonly string[];
  /** Edits of the document beyond `cascade` when one is deleted (a consumer leaves its groups). */
  onDelete?(doc: Record<string, unknown>, id: string): void;
  present(entity: Entity, options: PresentOptions): Record<string, unknown>;
}

const ref = (id: unknown): { id: string } | null => (typeof id === 'string' ? { id } : null);

/** A deleted consumer leaves every group (the store keeps membership on the groups, by consumer id). */
function removeFromGroups(doc: Record<string, unknown>, id: string): void {
  const groups = doc.consumer_groups;
  if (!Array.isArray(groups)) return;
  for (const group of groups as Array<Record<string, unknown>>) {
    if (Array.isArray(group.consumers)) group.consumers = (group.consumers as unknown[]).filter((m) => !(typeof m === 'object' && m !== null && (m as { id?: unknown }).id === id));
  }
}

export const KINDS: Readonly<Record<Section, EntityKind>> = {
  services: {
    section: 'services',
    label: 'service',
    nameFields: ['name'],
    pluginScope: 'service',
    present: (s) => ({ ...s, client_certificate: ref(s.client_certificate) }),
  },
  routes: {
    section: 'routes',
    label: 'route',
    nameFields: ['name'],
    pluginScope: 'route',
    present: ({ order: _order, ...r }) => ({ ...r, service: ref(r.service) }),
  },
  consumers: {
    section: 'consumers',
    label: 'consumer',
    nameFields: ['username'],
    pluginScope: 'consumer',
    cascade: CREDENTIAL_KEYS.map((section) => ({ section, field: 'consumer' })),
    fileOnly: [...CREDENTIAL_KEYS, 'groups'],
    onDelete: removeFromGroups,
    present: (c) => ({ ...c }),
  },
  consumer_groups: {
    section: 'consumer_groups',
    label: 'consumer_group',
    nameFields: ['name'],
    pluginScope: 'consumer_group',
    fileOnly: ['consumers', 'plugins'],
    keptOnReplace: ['consumers'],
    present: ({ consumers: _consumers, ...g }) => ({ ...g }),
  },
  plugins: {
    section: 'plugins',
    label: 'plugin',
    nameFields: ['instance_name'],
    pluginScope: null,
    present: (p, options) => ({
      ...p,
      config: options.configSchemaOf === undefined ? p.config : withUnsetFields(p.config as Record<string, unknown>, options.configSchemaOf(String(p.name))),
      service: ref(p.service),
      route: ref(p.route),
      consumer: ref(p.consumer),
      consumer_group: ref(p.consumer_group),
    }),
  },
  ca_certificates: { section: 'ca_certificates', label: 'ca_certificate', nameFields: [], pluginScope: null, present: (c) => ({ ...c }) },
  certificates: {
    section: 'certificates',
    label: 'certificate',
    nameFields: ['snis'],
    pluginScope: null,
    present: ({ key, key_alt, ...c }, options) => (options.privateKeys ? { ...c, key, key_alt } : { ...c }),
  },
  upstreams: {
    section: 'upstreams',
    label: 'upstream',
    nameFields: ['name'],
    pluginScope: null,
    cascade: [{ section: 'targets', field: 'upstream' }],
    fileOnly: ['targets'],
    present: (u) => ({ ...u, client_certificate: ref(u.client_certificate) }),
  },
  targets: { section: 'targets', label: 'target', nameFields: ['target'], pluginScope: null, present: (t) => ({ ...t, upstream: ref(t.upstream) }) },
  // Kong's shape: the consumer as a reference, and the ttl the entity carries (never set here).
  keyauth_credentials: {
    section: 'keyauth_credentials',
    label: 'keyauth_credential',
    nameFields: ['key'],
    pluginScope: null,
    segment: CREDENTIAL_KINDS.keyauth_credentials.adminPaths.flat,
    // Kong generates a random key when none is given; 24 random bytes, URL-safe.
    generate: (body) => {
      if (body.key === undefined) body.key = randomBytes(24).toString('base64url');
    },
    present: (k) => ({ ...k, consumer: ref(k.consumer), ttl: null }),
  },
  // The password as Kong shows it: its stored hash (the plaintext is gone once the change loads).
  basicauth_credentials: {
    section: 'basicauth_credentials',
    label: 'basicauth_credential',
    nameFields: ['username'],
    pluginScope: null,
    segment: CREDENTIAL_KINDS.basicauth_credentials.adminPaths.flat,
    present: (b) => ({ ...b, consumer: ref(b.consumer) }),
  },
  jwt_secrets: {
    section: 'jwt_secrets',
    label: 'jwt_secret',
    nameFields: ['key'],
    pluginScope: null,
    segment: CREDENTIAL_KINDS.jwt_secrets.adminPaths.flat,
    // Kong generates both (utils.random_string); the secret with 256 bits, what HS256 needs (RFC 7518 §3.2).
    generate: (body) => {
      if (body.key === undefined) body.key = randomBytes(16).toString('hex');
      if (body.secret === undefined) body.secret = randomBytes(32).toString('base64url');
    },
    present: (j) => ({ ...j, consumer: ref(j.consumer) }),
  },
  acls: { section: 'acls', label: 'acl', nameFields: [], scopedNameFields: ['group'], pluginScope: null, present: (a) => ({ ...a, consumer: ref(a.consumer) }) },
};

/** The kind of a configuration section (`targets` included). */
export function kindOfSection(section: string): EntityKind | null {
  return Object.hasOwn(KINDS, section) ? KINDS[section as Section] : null;
}

/** Path segment → kind, for the CRUD collections (not `targets`: Kong answers 404 there; `/key-auths`, `/acls`). */
export function kindOf(segment: string | undefined): EntityKind | null {
  if (segment === undefined || segment === 'targets') return null;
  return Object.values(KINDS).find((kind) => (kind.segment ?? kind.section) === segment) ?? null;
}

export function entitiesOf(config: Config, kind: EntityKind): readonly Entity[] {
  return config[kind.section] as unknown as readonly Entity[];
}

/** The entity a URL segment names: by id (any case), else by one of the kind's name fields. */
export function findEntity(config: Config, kind: EntityKind, key: string): Entity | null {
  const list = entitiesOf(config, kind);
  const lower = key.toLowerCase();
  const found = byId(list).get(lower);
  if (found !== undefined) return found;
  // By name: a string field equal to the key, or a list field (a certificate's SNIs) holding it in
  // lower case; the first such entity in list order. Indexed, as a list of 100,000 consumers is
  // searched on every admin request that names one.
  const names = indexByKeys(list, `name:${kind.section}:${kind.nameFields.join(',')}`, (e) =>
    kind.nameFields.flatMap((f) => {
      const value = e[f];
      if (typeof value === 'string') return [`=${value}`];
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').map((v) => `[]${v}`) : [];
    }),
  );
  const exact = names.get(`=${key}`);
  const inList = names.get(`[]${lower}`);
  if (exact !== undefined && inList !== undefined && exact !== inList) return list.indexOf(exact) < list.indexOf(inList) ? exact : inList;
  return exact ?? inList ?? null;
}

/** SNIs are stored inside their certificate; the API shows them as entities of their own, as Kong. */
export function sniEntities(config: Config): Array<{ id: string; name: string; certificate: { id: string }; tags: readonly string[] }> {
  return config.certificates.flatMap((c) => c.sni_entities.map((sni) => ({ id: sni.id, name: sni.name, certificate: { id: c.id }, tags: sni.tags })));
}
