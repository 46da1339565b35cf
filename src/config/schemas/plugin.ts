/** A plugin entity as written in a decK file: top-level, or nested under a service, route, consumer or consumer group. */
import { Type, type Static } from '@sinclair/typebox';
import { ConsumerReference, EntityReference, Name, StringEnum, Tags, Uuid } from './common.js';

/** Every protocol Kong knows; a plugin may name any of them even where Portcullis serves only some. */
export const PROTOCOLS = ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'tls_passthrough', 'udp', 'ws', 'wss'] as const;

/** Kong's `protocols` default for a plugin whose schema does not narrow it. */
export const DEFAULT_PLUGIN_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https'] as const;

export const PluginEntitySchema = Type.Object(
  {
    id: Type.Optional(Uuid('Stable id; derived from name, scope and instance_name when absent.')),
    name: Type.String({ minLength: 1, description: 'Which plugin, e.g. `openid-connect`.' }),
    instance_name: Type.Optional(Name('Label telling apart several instances of the same plugin.')),
    config: Type.Record(Type.String(), Type.Unknown(), {
      default: {},
      description: "The plugin's own settings, validated against its schema.",
    }),
    enabled: Type.Boolean({ default: true, description: 'A disabled plugin is loaded and validated but never runs.' }),
    protocols: Type.Optional(
      Type.Array(StringEnum(PROTOCOLS), {
        minItems: 1,
        uniqueItems: true,
        description: "Protocols it runs on; default: the plugin's own default, else grpc, grpcs, http, https.",
      }),
    ),
    tags: Tags,
    service: Type.Optional(EntityReference('service')),
    route: Type.Optional(EntityReference('route')),
    consumer: Type.Optional(ConsumerReference),
    consumer_group: Type.Optional(EntityReference('consumer group')),
  },
  { additionalProperties: false },
);

export type PluginEntityInput = Static<typeof PluginEntitySchema>;
