import { Type, type Static } from '@sinclair/typebox';
import type { PluginSchema } from '../../pipeline/plugin.js';

/** Kong's unit_multiplication_factor: powers of 1024, whatever the field's description says. */
export const UNIT_BYTES = { megabytes: 1048576, kilobytes: 1024, bytes: 1 } as const;

/** Kong's request-size-limiting (kong/plugins/request-size-limiting/schema.lua). */
export const requestSizeLimitingConfig = Type.Object(
  {
    allowed_payload_size: Type.Integer({ default: 128, description: 'Allowed request payload size, in size_unit (1024-based).' }),
    size_unit: Type.Union([Type.Literal('megabytes'), Type.Literal('kilobytes'), Type.Literal('bytes')], {
      default: 'megabytes',
      description: 'Unit of allowed_payload_size: bytes, kilobytes (1024 bytes) or megabytes (1048576 bytes).',
    }),
    require_content_length: Type.Boolean({ default: false, description: 'Refuse (411) a request with neither a valid Content-Length nor chunked encoding.' }),
  },
  { additionalProperties: false },
);

export type RequestSizeLimitingConfig = Static<typeof requestSizeLimitingConfig>;

export const requestSizeLimitingSchema: PluginSchema = {
  name: 'request-size-limiting',
  configSchema: requestSizeLimitingConfig,
  scopes: { global: true, service: true, route: true, consumer: true },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
};
