/**
 * A compiled `Config` back to a decK document: the inverse of `loadConfigObject`. Every entity is
 * written flat (top-level `services`, `routes`, `plugins`, …) with its id and every field, defaults
 * included, so that `loadConfigObject(exportConfig(c))` yields a config equal to `c`: same ids,
 * same route order, same plugin configs. Fields that are null in the Config and that the file
 * schema does not accept as null (`name`, `path`, `paths`, …) are left out, which reads back as null.
 *
 * References are written by name where the target has one (readable dumps) or always by id
 * (`references: 'id'`, what the config store and `portcullis apply` use, so that renaming an entity
 * never breaks what points at it).
 */
import { CREDENTIAL_KEYS } from './credential-kinds.js';
import type { Acl, BasicAuthCredential, CaCertificate, Certificate, Config, Consumer, ConsumerGroup, JwtSecret, KeyAuthCredential, PluginEntity, Route, Service, Target, Upstream } from './types.js';
import { derivedSniId } from './identity.js';

/** A decK document as plain JSON-compatible data. */
export type DeckDocument = Record<string, unknown>;
type Entry = Record<string, unknown>;

export interface ExportOptions {
  /** How references are written: by name where one exists (default) or always by id. */
  readonly references?: 'name' | 'id';
  /** Include certificates' private keys (default true: without them the export cannot be loaded). */
  readonly privateKeys?: boolean;
  /**
   * Where targets and consumer credentials go: nested under their upstream or consumer (default:
   * decK's file format has no top-level targets, and decK dumps nest credentials), or top level
   * with `upstream`/`consumer` (the config store's canonical document, whose entity lists the admin
   * API edits in place). Group memberships: under each consumer as `groups` (nested, decK's dump)
   * or under each group as `consumers: [{ id }]` (flat).
   */
  readonly children?: 'nested' | 'flat';
}

// A name that looks like a UUID would be read back as an id (ids win), so such names are not used.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Adds `key: value` unless value is null (absent reads back as null). */
function put(entry: Entry, key: string, value: unknown): void {
  if (value !== null && value !== undefined) entry[key] = value;
}

/**
 * A deep copy with every record's fields in alphabetical order, as decK writes them. Where an
 * entity's fields are not written in a fixed order here (a plugin's config, a route's headers, a
 * credential's or an upstream's fields), the order they arrive in depends on where they came from
 * (a file's order, an admin body's, PostgreSQL's jsonb order), and a dump must be the same from
 * every node of a cluster.
 */
function copy<T>(value: T): T {
  return sortedCopy(value) as T;
}

function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedCopy((value as Record<string, unknown>)[key])]));
}

/** `fields` in alphabetical order, each copied as `copy` does. */
function sortedEntries(fields: object): Array<[string, unknown]> {
  return Object.keys(fields).sort().map((key) => [key, copy((fields as Record<string, unknown>)[key])]);
}

class Referrer {
  readonly #names = new Map<string, string>();
  readonly #byId: boolean;

  constructor(config: Config, references: 'name' | 'id') {
    this.#byId = references === 'id';
    const add = (id: string, name: string | null): void => {
      if (name !== null && !UUID.test(name)) this.#names.set(id, name);
    };
    for (const s of config.services) add(s.id, s.name);
    for (const r of config.routes) add(r.id, r.name);
    for (const c of config.consumers) add(c.id, c.username);
    for (const u of config.upstreams) add(u.id, u.name);
    for (const g of config.consumer_groups) add(g.id, g.name);
  }

  /** A reference as an object, `{ name }` or `{ id }`, as decK writes a consumer's groups. */
  toObject(id: string): Entry {
    const name = this.#byId ? undefined : this.#names.get(id);
    return name === undefined ? { id } : { name };
  }

  /** The reference to write for `id`, or null for none. */
  to(id: string | null): string | null {
    if (id === null) return null;
    return this.#byId ? id : (this.#names.get(id) ?? id);
  }
}

function service(s: Service): Entry {
  const out: Entry = { id: s.id };
  put(out, 'name', s.name);
  Object.assign(out, { protocol: s.protocol, host: s.host, port: s.port });
  put(out, 'path', s.path);
  Object.assign(out, {
    retries: s.retries,
    connect_timeout: s.connect_timeout,
    read_timeout: s.read_timeout,
    write_timeout: s.write_timeout,
    enabled: s.enabled,
    tls_verify: s.tls_verify,
    tls_verify_depth: s.tls_verify_depth,
  });
  put(out, 'ca_certificates', s.ca_certificates === null ? null : [...s.ca_certificates]);
  // Certificates have no name: always by id.
  put(out, 'client_certificate', s.client_certificate);
  out.tags = [...s.tags];
  return out;
}

function route(r: Route, ref: Referrer): Entry {
  const out: Entry = { id: r.id };
  put(out, 'name', r.name);
  put(out, 'service', ref.to(r.service));
  out.protocols = [...r.protocols];
  put(out, 'methods', r.methods === null ? null : [...r.methods]);
  put(out, 'hosts', r.hosts === null ? null : [...r.hosts]);
  put(out, 'paths', r.paths === null ? null : [...r.paths]);
  put(out, 'headers', r.headers === null ? null : copy(r.headers));
  put(out, 'snis', r.snis === null ? null : [...r.snis]);
  Object.assign(out, {
    strip_path: r.strip_path,
    preserve_host: r.preserve_host,
    regex_priority: r.regex_priority,
    path_handling: r.path_handling,
    https_redirect_status_code: r.https_redirect_status_code,
    request_buffering: r.request_buffering,
    response_buffering: r.response_buffering,
    tags: [...r.tags],
  });
  return out;
}

function plugin(p: PluginEntity, ref: Referrer): Entry {
  const out: Entry = { id: p.id, name: p.name };
  put(out, 'instance_name', p.instance_name);
  put(out, 'service', ref.to(p.service));
  put(out, 'route', ref.to(p.route));
  put(out, 'consumer', ref.to(p.consumer));
  put(out, 'consumer_group', ref.to(p.consumer_group));
  Object.assign(out, { enabled: p.enabled, protocols: [...p.protocols], tags: [...p.tags], config: copy(p.config) });
  return out;
}

function consumer(c: Consumer): Entry {
  const out: Entry = { id: c.id };
  put(out, 'username', c.username);
  put(out, 'custom_id', c.custom_id);
  out.tags = [...c.tags];
  return out;
}

/**
 * A credential's own fields, without its consumer (written by nesting or by `consumer`); unset ones
 * (a JWT key's secret or public key) left out. A basic-auth password is its stored hash, which
 * loads back as it is (basic-auth-password.ts).
 */
function credentialFields(c: KeyAuthCredential | BasicAuthCredential | JwtSecret | Acl): Entry {
  const { consumer: _consumer, tags, ...fields } = c;
  const out: Entry = {};
  for (const [key, value] of sortedEntries(fields)) put(out, key, value);
  out.tags = [...tags];
  return out;
}

/**
 * Each consumer with its credentials nested, as decK dumps them (a kind with none is left out), and
 * its consumer groups as `groups: [{ name }]`, the one membership form `deck gateway dump` writes.
 */
function consumersWithCredentials(config: Config, ref: Referrer): Entry[] {
  return config.consumers.map((c) => {
    const out = consumer(c);
    for (const key of CREDENTIAL_KEYS) {
      const own = config[key].filter((credential) => credential.consumer === c.id);
      if (own.length > 0) out[key] = own.map(credentialFields);
    }
    const groups = config.consumer_groups.filter((g) => g.consumers.includes(c.id));
    if (groups.length > 0) out.groups = groups.map((g) => ref.toObject(g.id));
    return out;
  });
}

function consumerGroup(g: ConsumerGroup): Entry {
  return { id: g.id, name: g.name, tags: [...g.tags] };
}

/** The config store's form: membership on the group, by consumer id (a consumer's PUT cannot drop it). */
function consumerGroupWithMembers(g: ConsumerGroup): Entry {
  return { ...consumerGroup(g), consumers: g.consumers.map((id) => ({ id })) };
}

function caCertificate(ca: CaCertificate): Entry {
  return { id: ca.id, cert: ca.cert, cert_digest: ca.cert_digest, tags: [...ca.tags] };
}

function certificate(c: Certificate, privateKeys: boolean): Entry {
  const out: Entry = { id: c.id, cert: c.cert };
  if (privateKeys) out.key = c.key;
  put(out, 'cert_alt', c.cert_alt);
  if (privateKeys) put(out, 'key_alt', c.key_alt);
  // An SNI is written as its name unless it has an id of its own (given by a client, e.g. decK's
  // `PUT /snis/{uuid}`) or tags: then as `{ name, id, tags }`, so the id survives a dump and sync.
  const snis = c.sni_entities.map((sni) => (sni.id === derivedSniId(sni.name) && sni.tags.length === 0 ? sni.name : { name: sni.name, id: sni.id, ...(sni.tags.length > 0 ? { tags: [...sni.tags] } : {}) }));
  Object.assign(out, { snis, tags: [...c.tags] });
  return out;
}

function upstream(u: Upstream): Entry {
  const { healthchecks, hash_on: hashOn, ...fields } = u;
  const out: Entry = {};
  for (const [key, value] of sortedEntries(fields)) put(out, key, value);
  // hash_on is written only when it hashes: a written `none` would turn consistent-hashing into
  // round-robin on the way back in (Kong's shorthand, checks/upstream.ts).
  if (hashOn !== 'none') out.hash_on = hashOn;
  const active: Entry = {};
  for (const [key, value] of sortedEntries(healthchecks.active)) put(active, key, value);
  out.healthchecks = { active, passive: copy(healthchecks.passive), threshold: healthchecks.threshold };
  return out;
}

function target(t: Target, ref: Referrer): Entry {
  return { id: t.id, upstream: ref.to(t.upstream), ...nestedTarget(t) };
}

function nestedTarget(t: Target): Entry {
  return { id: t.id, target: t.target, weight: t.weight, tags: [...t.tags] };
}

/** The decK document of `config`; see the module comment. Sections are always present, possibly empty. */
export function exportConfig(config: Config, options: ExportOptions = {}): DeckDocument {
  const ref = new Referrer(config, options.references ?? 'name');
  const privateKeys = options.privateKeys ?? true;
  return {
    _format_version: config._format_version,
    services: config.services.map(service),
    routes: config.routes.map((r) => route(r, ref)),
    consumers: options.children === 'flat' ? config.consumers.map(consumer) : consumersWithCredentials(config, ref),
    consumer_groups: config.consumer_groups.map(options.children === 'flat' ? consumerGroupWithMembers : consumerGroup),
    plugins: config.plugins.map((p) => plugin(p, ref)),
    ca_certificates: config.ca_certificates.map(caCertificate),
    certificates: config.certificates.map((c) => certificate(c, privateKeys)),
    ...(options.children === 'flat'
      ? {
          upstreams: config.upstreams.map(upstream),
          targets: config.targets.map((t) => target(t, ref)),
          ...Object.fromEntries(CREDENTIAL_KEYS.map((key) => [key, config[key].map((c) => ({ ...credentialFields(c), consumer: ref.to(c.consumer) }))])),
        }
      : { upstreams: config.upstreams.map((u) => ({ ...upstream(u), targets: config.targets.filter((t) => t.upstream === u.id).map(nestedTarget) })) }),
  };
}
