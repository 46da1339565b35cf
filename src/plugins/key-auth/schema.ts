import { Type, type Static } from '@sinclair/typebox';
import { unknownConsumer } from '../../config/find-consumer.js';
import type { PluginSchema } from '../../pipeline/plugin.js';

/** Kong's key-auth (kong/plugins/key-auth/schema.lua): an API key from a header, the query or the body. */
export const keyAuthConfig = Type.Object(
  {
    key_names: Type.Array(
      Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_-]+$', errorMessage: 'bad header name, allowed characters are A-Z, a-z, 0-9, "_", and "-"' }),
      { minItems: 1, default: ['apikey'], description: 'Header, query parameter or body field names the key is looked for under, in order.' },
    ),
    hide_credentials: Type.Boolean({ default: false, description: 'Remove the key from the request before it goes upstream.' }),
    anonymous: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description: 'Consumer (id or username) to use when authentication fails; null: the request fails (401).',
    }),
    key_in_header: Type.Boolean({ default: true, description: 'Look for the key in request headers.' }),
    key_in_query: Type.Boolean({ default: true, description: 'Look for the key in the query string.' }),
    key_in_body: Type.Boolean({ default: false, description: 'Look for the key in a form or JSON body (read into memory, bounded).' }),
    run_on_preflight: Type.Boolean({ default: true, description: 'Authenticate OPTIONS requests too; false lets them through.' }),
    realm: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null, description: 'The realm of the `WWW-Authenticate: Key` challenge.' }),
  },
  { additionalProperties: false },
);

export type KeyAuthConfig = Static<typeof keyAuthConfig>;

export const keyAuthSchema: PluginSchema = {
  name: 'key-auth',
  configSchema: keyAuthConfig,
  // typedefs.no_consumer: an API key is what finds the consumer.
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index, config) {
    const problem = unknownConsumer(config, (plugin.config as KeyAuthConfig).anonymous);
    return problem === null ? [] : [{ path: `plugins[${index}].config.anonymous`, message: problem }];
  },
};
