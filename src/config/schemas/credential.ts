/**
 * Consumer credentials as decK writes them: nested under their consumer (`consumers[].keyauth_credentials`)
 * or top level with `consumer`. Each kind is one Kong table (kong/plugins/<plugin>/daos.lua).
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { JWT_ALGORITHMS } from '../types.js';
import { ConsumerReference, StringEnum, Tags, Unsupported, Uuid } from './common.js';

const keyAuthFields = {
  id: Type.Optional(Uuid('Stable id; derived from the consumer and the position when absent (never from the key).')),
  key: Type.String({ minLength: 1, description: 'The API key. Required in a file; the admin API generates one when absent, as Kong.' }),
  // Kong's keyauth_credentials are ttl-enabled (expiring keys); not implemented yet.
  ttl: Type.Optional(Unsupported),
  tags: Tags,
};

const basicAuthFields = {
  id: Type.Optional(Uuid('Stable id; derived from the consumer and the username when absent.')),
  username: Type.String({ minLength: 1, description: 'The username; unique across every consumer.' }),
  password: Type.String({
    minLength: 1,
    description:
      "The password, or Kong's stored form of it (40 lowercase hex characters: the SHA-1 of the password and the consumer id), which is kept as is. Anything else is hashed when the configuration loads.",
  }),
  tags: Tags,
};

const jwtSecretFields = {
  id: Type.Optional(Uuid('Stable id; derived from the consumer and the key when absent.')),
  key: Type.String({ minLength: 1, description: "What the token's key claim (`iss` by default) names; unique. Required in a file; the admin API generates one when absent, as Kong." }),
  secret: Type.Optional(Type.String({ minLength: 1, description: 'The HMAC secret (HS256/384/512). Required in a file for those; the admin API generates one when absent, as Kong.' })),
  rsa_public_key: Type.Optional(Type.String({ minLength: 1, description: 'The PEM public key that verifies RS*, PS*, ES* and EdDSA tokens.' })),
  algorithm: StringEnum(JWT_ALGORITHMS, { default: 'HS256', description: 'The one algorithm tokens of this key may be signed with.' }),
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
export const BasicAuthCredentialSchemas = nestedAndTopLevel(basicAuthFields);
export const JwtSecretSchemas = nestedAndTopLevel(jwtSecretFields);
export const AclSchemas = nestedAndTopLevel(aclFields);

export type KeyAuthCredentialInput = Static<typeof KeyAuthCredentialSchemas.topLevel>;
export type BasicAuthCredentialInput = Static<typeof BasicAuthCredentialSchemas.topLevel>;
export type JwtSecretInput = Static<typeof JwtSecretSchemas.topLevel>;
export type AclInput = Static<typeof AclSchemas.topLevel>;
