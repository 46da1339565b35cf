/**
 * How `apply` and `sync` recognise an entity of a file as one the gateway already has, as decK does:
 * by id when the file gives one, else by its natural key: a service's, route's or upstream's name, a
 * consumer's username (else custom_id), a consumer group's name, a certificate's PEM, a plugin's name + scope + instance_name,
 * a target's upstream + address in Kong's stored form (`host:port`, Kong's cache key), an API key by
 * its key, a basic-auth credential by its username, a JWT credential by its key, an ACL by its consumer + group.
 */
import { CREDENTIAL_KEYS } from '../config/credential-kinds.js';
import type { Config, PluginEntity } from '../config/types.js';

export const SECTIONS = ['services', 'routes', 'consumers', 'consumer_groups', 'plugins', 'ca_certificates', 'certificates', 'upstreams', 'targets', ...CREDENTIAL_KEYS] as const;
export type Section = (typeof SECTIONS)[number];

/** A record with one fresh value per section. */
export function perSection<T>(make: (section: Section) => T): Record<Section, T> {
  return Object.fromEntries(SECTIONS.map((s) => [s, make(s)])) as Record<Section, T>;
}

/** `name` → id, per section, of what the gateway has. */
export type KeyIndex = Record<Section, Map<string, string>>;

/** The key of a plugin: its name, instance_name and the ids (or stand-ins) of its scope. */
export function pluginKey(
  name: string,
  scope: { service: string | null; route: string | null; consumer: string | null; consumer_group: string | null },
  instance: string | null,
): string {
  return JSON.stringify([name, scope.service, scope.route, scope.consumer, scope.consumer_group, instance]);
}

/** The key of a target: its upstream's id (or a stand-in) and its address as Kong stores it. */
export function targetKey(upstream: string, address: string): string {
  return JSON.stringify([upstream, address]);
}

/** The key of an ACL: its consumer's id (or a stand-in) and its group. */
export function aclKey(consumer: string, group: string): string {
  return JSON.stringify([consumer, group]);
}

const pemKey = (pem: string): string => `pem:${pem.trim()}`;

/** Natural keys of a certificate-like entity. */
export function certificateKey(cert: unknown): string | null {
  return typeof cert === 'string' ? pemKey(cert) : null;
}

/** Every natural key of every entity in `config`, mapped to its id. */
export function indexKeys(config: Config): KeyIndex {
  const index: KeyIndex = perSection(() => new Map());
  for (const s of config.services) if (s.name !== null) index.services.set(`name:${s.name}`, s.id);
  for (const r of config.routes) if (r.name !== null) index.routes.set(`name:${r.name}`, r.id);
  for (const c of config.consumers) {
    if (c.username !== null) index.consumers.set(`username:${c.username}`, c.id);
    if (c.custom_id !== null) index.consumers.set(`custom_id:${c.custom_id}`, c.id);
  }
  for (const g of config.consumer_groups) index.consumer_groups.set(`name:${g.name}`, g.id);
  for (const p of config.plugins) index.plugins.set(pluginKeyOf(p), p.id);
  for (const ca of config.ca_certificates) index.ca_certificates.set(pemKey(ca.cert), ca.id);
  for (const c of config.certificates) index.certificates.set(pemKey(c.cert), c.id);
  for (const u of config.upstreams) index.upstreams.set(`name:${u.name}`, u.id);
  for (const t of config.targets) index.targets.set(targetKey(t.upstream, t.target), t.id);
  for (const k of config.keyauth_credentials) index.keyauth_credentials.set(`key:${k.key}`, k.id);
  for (const b of config.basicauth_credentials) index.basicauth_credentials.set(`username:${b.username}`, b.id);
  for (const j of config.jwt_secrets) index.jwt_secrets.set(`key:${j.key}`, j.id);
  for (const a of config.acls) index.acls.set(aclKey(a.consumer, a.group), a.id);
  return index;
}

export function pluginKeyOf(p: PluginEntity): string {
  return pluginKey(p.name, p, p.instance_name);
}
