/**
 * What must be unique, as Kong's database enforces it: service and route names, consumer usernames
 * and custom_ids, upstream names, a target's address within its upstream, ids within a kind, SNI
 * names across certificates, consumer group names, and one plugin of a given name
 * per exact scope (service, route, consumer, consumer group). Each duplicate is reported where it occurs again,
 * pointing at the first occurrence.
 */
import { type Drafts, type Raw, stringField } from './collect.js';
import { CREDENTIAL_KEYS, CREDENTIAL_KINDS } from './credential-kinds.js';
import { formatTargetAddress } from './target-address.js';
import { sniItems } from './checks/certificates.js';
import type { ErrorList } from './errors.js';
import { joinPath } from './paths.js';

interface Located {
  readonly path: string;
  readonly raw: Raw;
  readonly id: string;
}

function checkField(items: readonly Located[], field: string, what: string, errors: ErrorList): void {
  const first = new Map<string, string>();
  for (const item of items) {
    const value = stringField(item.raw, field);
    if (value === undefined) continue;
    const earlier = first.get(value);
    if (earlier === undefined) first.set(value, item.path);
    else errors.add(joinPath(item.path, field), `duplicate ${what} '${value}' (also used by ${earlier})`);
  }
}

/**
 * Ids must be unique within a kind. Two derived ids can only collide when the identities they come
 * from do (same name, same scope), which the other checks report better, except for CA
 * certificates, whose derived id is their digest: there a collision means the same CA twice, which
 * Kong forbids (`cert_digest` is unique).
 */
function checkIds(items: readonly Located[], derivedMeansSameCert: boolean, errors: ErrorList): void {
  const first = new Map<string, Located>();
  for (const item of items) {
    const earlier = first.get(item.id);
    if (earlier === undefined) {
      first.set(item.id, item);
      continue;
    }
    const explicit = item.raw.id !== undefined || earlier.raw.id !== undefined;
    if (explicit) errors.add(joinPath(item.path, 'id'), `duplicate id '${item.id}' (also used by ${earlier.path})`);
    else if (derivedMeansSameCert) errors.add(joinPath(item.path, 'cert'), `same certificate as ${earlier.path}`);
  }
}

function checkSnis(drafts: Drafts, errors: ErrorList): void {
  const first = new Map<string, string>();
  const firstId = new Map<string, string>();
  for (const cert of drafts.certificates) {
    for (const { name, id, index } of sniItems(cert.raw)) {
      const at = joinPath(joinPath(cert.path, 'snis'), index);
      const earlier = first.get(name);
      if (earlier === undefined) first.set(name, at);
      else errors.add(at, `duplicate SNI '${name}' (also used by ${earlier})`);
      if (id === null) continue;
      const earlierId = firstId.get(id);
      if (earlierId === undefined) firstId.set(id, at);
      else errors.add(joinPath(at, 'id'), `duplicate id '${id}' (also used by ${earlierId})`);
    }
  }
}

/** One target per address in an upstream (Kong's cache key: upstream and target). */
function checkTargets(drafts: Drafts, errors: ErrorList): void {
  const first = new Map<string, string>();
  for (const target of drafts.targets) {
    const text = stringField(target.raw, 'target');
    const address = text === undefined ? null : formatTargetAddress(text);
    if (address === null || target.upstreamId === null) continue;
    const key = `${target.upstreamId}|${address}`;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, target.path);
    else errors.add(joinPath(target.path, 'target'), `duplicate target '${address}' in the same upstream (also used by ${earlier})`);
  }
}

/**
 * Kong's unique constraints of the credentials: an API key, a basic-auth username or a JWT key
 * across every consumer, a group within its consumer. An API key is a secret: the message names
 * where it is repeated, never the key.
 */
function checkCredentials(drafts: Drafts, errors: ErrorList): void {
  for (const key of CREDENTIAL_KEYS) {
    const { unique, noun } = CREDENTIAL_KINDS[key];
    const first = new Map<string, string>();
    for (const credential of drafts.credentials[key]) {
      const value = stringField(credential.raw, unique.field);
      if (value === undefined || (unique.across === 'consumer' && credential.consumerId === null)) continue;
      const scope = unique.across === 'all' ? value : `${credential.consumerId ?? ''}|${value}`;
      const earlier = first.get(scope);
      if (earlier === undefined) first.set(scope, credential.path);
      else if (unique.secret) errors.add(joinPath(credential.path, unique.field), `duplicate ${unique.field}: another ${noun} has the same ${unique.field} (at ${earlier})`);
      else if (unique.across === 'all') errors.add(joinPath(credential.path, unique.field), `duplicate ${unique.field} '${value}' (also used by ${earlier})`);
      else errors.add(joinPath(credential.path, unique.field), `duplicate ${unique.field} '${value}' in the same consumer (also used by ${earlier})`);
    }
    checkIds(drafts.credentials[key], false, errors);
  }
}

function checkPluginScopes(drafts: Drafts, errors: ErrorList): void {
  const first = new Map<string, string>();
  for (const plugin of drafts.plugins) {
    const name = stringField(plugin.raw, 'name');
    if (name === undefined || !plugin.resolved) continue;
    const key = JSON.stringify([name, plugin.serviceId, plugin.routeId, plugin.consumerId, plugin.consumerGroupId]);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, plugin.path);
    else {
      const scope = plugin.consumerGroupId === null ? 'service, route and consumer' : 'service, route, consumer and consumer group';
      errors.add(plugin.path, `plugin '${name}' is already configured on the same ${scope} (at ${earlier})`);
    }
  }
}

/** Adds an error for every duplicate; see the module comment. */
export function checkUniqueness(drafts: Drafts, errors: ErrorList): void {
  checkField(drafts.services, 'name', 'name', errors);
  checkField(drafts.routes, 'name', 'name', errors);
  checkField(drafts.consumers, 'username', 'username', errors);
  checkField(drafts.consumers, 'custom_id', 'custom_id', errors);
  checkIds(drafts.services, false, errors);
  checkIds(drafts.routes, false, errors);
  checkIds(drafts.consumers, false, errors);
  checkField(drafts.consumerGroups, 'name', 'name', errors);
  checkIds(drafts.consumerGroups, false, errors);
  checkIds(drafts.plugins, false, errors);
  checkIds(drafts.caCertificates, true, errors);
  checkIds(drafts.certificates, false, errors);
  checkField(drafts.upstreams, 'name', 'name', errors);
  checkIds(drafts.upstreams, false, errors);
  checkIds(drafts.targets, false, errors);
  checkTargets(drafts, errors);
  checkCredentials(drafts, errors);
  checkSnis(drafts, errors);
  checkPluginScopes(drafts, errors);
}
