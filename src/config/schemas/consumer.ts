/** A consumer (a client identity) as written in a decK file. */
import { Type, type Static } from '@sinclair/typebox';
import { Tags, Unsupported, Uuid } from './common.js';
import { AclSchemas, BasicAuthCredentialSchemas, JwtSecretSchemas, KeyAuthCredentialSchemas } from './credential.js';
import { GroupMembershipSchema } from './consumer-group.js';
import { PluginEntitySchema } from './plugin.js';

/** Credential lists decK nests under consumers that Portcullis does not implement yet: they must stay empty. */
export const UNSUPPORTED_CONSUMER_FIELDS = [
  'hmacauth_credentials',
  'mtls_auth_credentials',
  'oauth2_credentials',
] as const;

export const ConsumerSchema = Type.Object(
  {
    id: Type.Optional(Uuid('Stable id; derived from username (else custom_id) when absent.')),
    username: Type.Optional(Type.String({ minLength: 1, description: 'Unique name; at least one of username and custom_id.' })),
    custom_id: Type.Optional(Type.String({ minLength: 1, description: 'Unique id from another system.' })),
    tags: Tags,
    plugins: Type.Optional(Type.Array(PluginEntitySchema, { description: 'Plugins scoped to this consumer.' })),
    keyauth_credentials: Type.Optional(Type.Array(KeyAuthCredentialSchemas.nested, { description: 'API keys of this consumer (key-auth).' })),
    basicauth_credentials: Type.Optional(Type.Array(BasicAuthCredentialSchemas.nested, { description: 'Usernames and passwords of this consumer (basic-auth).' })),
    jwt_secrets: Type.Optional(Type.Array(JwtSecretSchemas.nested, { description: 'JWT keys of this consumer (jwt).' })),
    acls: Type.Optional(Type.Array(AclSchemas.nested, { description: 'ACL groups of this consumer (acl).' })),
    groups: Type.Optional(Type.Array(GroupMembershipSchema, { description: 'Consumer groups this consumer is in (decK: `- name: gold`).' })),
    ...Object.fromEntries(UNSUPPORTED_CONSUMER_FIELDS.map((f) => [f, Type.Optional(Unsupported)])),
  },
  { additionalProperties: false },
);

export type ConsumerInput = Static<typeof ConsumerSchema>;
