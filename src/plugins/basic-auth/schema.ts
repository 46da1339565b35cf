import { Type, type Static } from '@sinclair/typebox';
import { unknownConsumer } from '../../config/find-consumer.js';
import type { PluginSchema } from '../../pipeline/plugin.js';

/** Kong's basic-auth (kong/plugins/basic-auth/schema.lua): a username and password in `Authorization` or `Proxy-Authorization`. */
export const basicAuthConfig = Type.Object(
  {
    anonymous: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description: 'Consumer (id or username) to use when authentication fails; null: the request fails (401).',
    }),
    hide_credentials: Type.Boolean({ default: false, description: 'Remove the Authorization (or Proxy-Authorization) header before the request goes upstream.' }),
    realm: Type.String({ minLength: 1, default: 'service', description: 'The realm of the `WWW-Authenticate: Basic` challenge.' }),
  },
  { additionalProperties: false },
);

export type BasicAuthConfig = Static<typeof basicAuthConfig>;

export const basicAuthSchema: PluginSchema = {
  name: 'basic-auth',
  configSchema: basicAuthConfig,
  // typedefs.no_consumer: the credential is what finds the consumer.
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index, config) {
    const problem = unknownConsumer(config, (plugin.config as BasicAuthConfig).anonymous);
    return problem === null ? [] : [{ path: `plugins[${index}].config.anonymous`, message: problem }];
  },
};
