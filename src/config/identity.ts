/**
 * Ids for entities written without one. They must be the same on every load of the same file (so
 * reloads keep caches keyed by id, and `configHash` only changes when the config does), hence a
 * name-based UUID (RFC 9562 version 5, SHA-1) of the entity's kind and natural identity: a service's
 * name, a consumer's username, a plugin's name and scope, a certificate's digest.
 */
import { createHash } from 'node:crypto';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** RFC 9562 UUIDv5 of `name` within `namespace`. */
export function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest().subarray(0, 16);
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  return formatUuid(hash);
}

/** The DNS namespace of RFC 9562, and ours inside it. */
const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const PORTCULLIS_NAMESPACE = uuidV5(DNS_NAMESPACE, 'config.portcullis');

export type EntityKind = 'service' | 'route' | 'plugin' | 'consumer' | 'consumer_group' | 'ca_certificate' | 'certificate' | 'upstream' | 'target' | 'keyauth_credential' | 'basicauth_credential' | 'jwt_secret' | 'acl';

/** The stable id of an entity of `kind` whose natural identity is `identity`. */
export function derivedId(kind: EntityKind, identity: string): string {
  return uuidV5(PORTCULLIS_NAMESPACE, `${kind}\u0000${identity}`);
}

const SNI_NAMESPACE = uuidV5(DNS_NAMESPACE, 'sni.config.portcullis');

/** The id of an SNI written without one: a name-based UUID of the (lower-cased) name. */
export function derivedSniId(name: string): string {
  return uuidV5(SNI_NAMESPACE, name);
}
