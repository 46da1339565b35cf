/** A consumer (a client identity) as written in a decK file. */
import { Type, type Static } from '@sinclair/typebox';
import { Tags, Unsupported, Uuid } from './common.js';
import { PluginEntitySchema } from './plugin.js';

/** Credential lists decK nests under consumers; none is implemented yet, so they must stay empty. */
export const UNSUPPORTED_CONSUMER_FIELDS = [
  'acls',
  'basicauth_credentials',
  'groups',
  'hmacauth_credentials',
  'jwt_secrets',
  'keyauth_credentials',
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
    ...Object.fromEntries(UNSUPPORTED_CONSUMER_FIELDS.map((f) => [f, Type.Optional(Unsupported)])),
  },
  { additionalProperties: false },
);

export type ConsumerInput = Static<typeof ConsumerSchema>;
