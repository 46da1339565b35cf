import { Type, type Static } from '@sinclair/typebox';
import type { PluginSchema } from '../../pipeline/plugin.js';

/** Kong's correlation-id (kong/plugins/correlation-id/schema.lua). */
export const correlationIdConfig = Type.Object(
  {
    header_name: Type.String({ default: 'Kong-Request-ID', description: 'The HTTP header name to use for the correlation ID.' }),
    generator: Type.Union([Type.Literal('uuid'), Type.Literal('uuid#counter'), Type.Literal('tracker')], {
      default: 'uuid#counter',
      description: 'The generator to use for the correlation ID: uuid, uuid#counter or tracker.',
    }),
    echo_downstream: Type.Boolean({ default: false, description: 'Whether to echo the header back to downstream (the client).' }),
  },
  { additionalProperties: false },
);

export type CorrelationIdConfig = Static<typeof correlationIdConfig>;

export const correlationIdSchema: PluginSchema = {
  name: 'correlation-id',
  configSchema: correlationIdConfig,
  scopes: { global: true, service: true, route: true, consumer: true },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
};
