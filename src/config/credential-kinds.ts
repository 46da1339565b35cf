/**
 * The consumer credential kinds Portcullis implements, one row each: the decK key (the same
 * nested under a consumer and at the top level), the entity kind for derived ids, the field that
 * makes one credential unique and how far (Kong's unique constraints: a key across all consumers,
 * a group within its consumer), and the admin API paths Kong serves them under.
 */
import type { EntityKind } from './identity.js';

export const CREDENTIAL_KEYS = ['keyauth_credentials', 'basicauth_credentials', 'jwt_secrets', 'acls'] as const;
export type CredentialKey = (typeof CREDENTIAL_KEYS)[number];

export interface CredentialKind {
  readonly entity: EntityKind;
  /** What one is called in messages. */
  readonly noun: string;
  /**
   * The identifying field, whether it is unique across consumers or within one, and whether it is
   * a secret. A secret never appears in a message, and a derived id never comes from it (an id is
   * sent upstream in X-Credential-Identifier and logged; a hash of a weak key there could be
   * brute-forced offline).
   */
  readonly unique: { readonly field: string; readonly across: 'all' | 'consumer'; readonly secret: boolean };
  /** `/consumers/{c}/<nested>` and `/<flat>`, as Kong. */
  readonly adminPaths: { readonly nested: string; readonly flat: string };
}

export const CREDENTIAL_KINDS: Readonly<Record<CredentialKey, CredentialKind>> = {
  keyauth_credentials: {
    entity: 'keyauth_credential',
    noun: 'key-auth credential',
    unique: { field: 'key', across: 'all', secret: true },
    adminPaths: { nested: 'key-auth', flat: 'key-auths' },
  },
  // A username is not a secret: Kong sends it upstream as X-Credential-Identifier.
  basicauth_credentials: {
    entity: 'basicauth_credential',
    noun: 'basic-auth credential',
    unique: { field: 'username', across: 'all', secret: false },
    adminPaths: { nested: 'basic-auth', flat: 'basic-auths' },
  },
  // A JWT key is the token's `iss` (or key_claim_name) and X-Credential-Identifier: public; its secret is another field.
  jwt_secrets: {
    entity: 'jwt_secret',
    noun: 'JWT credential',
    unique: { field: 'key', across: 'all', secret: false },
    adminPaths: { nested: 'jwt', flat: 'jwts' },
  },
  acls: {
    entity: 'acl',
    noun: 'ACL group',
    unique: { field: 'group', across: 'consumer', secret: false },
    adminPaths: { nested: 'acls', flat: 'acls' },
  },
};
