/**
 * Consumer credentials as decK writes them: nested under their consumer (`consumers[].keyauth_credentials`)
 * or top level with `consumer`. Each kind is one Kong table (kong/plugins/<plugin>/daos.lua).
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { ConsumerReference, Tags, Unsupported, Uuid } from './common.js';

const keyAuthFields = {
  id: Type.Optional(Uuid('Stable id; derived from the consumer and the position when absent (never from the key).')),
  key: Type.String({ minLength: 1, description: 'The API key. Required in a file; the admin API generates one when absent, as Kong.' }),
  // Kong's keyauth_credentials are ttl-enabled (expiring keys); not implemented yet.
  ttl: Type.Optional(Unsupported),
  tags: Tags,
};

const aclFields = {
  id: Type.Optional(Uuid('Stable id; derived from the consumer and the group when absent.')),
  group: Type.String({ minLength: 1, description: 'An ACL group the consumer belongs to.' }),
  tags: Tags,
};

function nestedAndTopLevel<P extends TProperties>(fields: P) {
  return {
    nested: Type.Object(fields, { additionalProperties: false }),
    topLevel: Type.Object({ ...fields, consumer: ConsumerReference }, { additionalProperties: false }),
  };
}

export const KeyAuthCredentialSchemas = nestedAndTopLevel(keyAuthFields);
export const AclSchemas = nestedAndTopLevel(aclFields);

export type KeyAuthCredentialInput = Static<typeof KeyAuthCredentialSchemas.topLevel>;
export type AclInput = Static<typeof AclSchemas.topLevel>;
