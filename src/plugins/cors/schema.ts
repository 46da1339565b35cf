import { Type, type Static } from '@sinclair/typebox';
import type { PluginSchema } from '../../pipeline/plugin.js';

export const CORS_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;

const Strings = (description: string) => Type.Union([Type.Array(Type.String()), Type.Null()], { default: null, description });

/** Kong's cors (kong/plugins/cors/schema.lua). */
export const corsConfig = Type.Object(
  {
    origins: Strings("Allowed origins: exact origins, '*', or regular expressions (anchored as Kong anchors them); none: every origin."),
    headers: Strings('Access-Control-Allow-Headers of a preflight; none: the headers the preflight asks for.'),
    exposed_headers: Strings('Access-Control-Expose-Headers.'),
    methods: Type.Array(Type.Union(CORS_METHODS.map((m) => Type.Literal(m))), { default: [...CORS_METHODS], description: 'Access-Control-Allow-Methods of a preflight.' }),
    max_age: Type.Union([Type.Number(), Type.Null()], { default: null, description: 'Access-Control-Max-Age of a preflight, in seconds.' }),
    credentials: Type.Boolean({ default: false, description: 'Send Access-Control-Allow-Credentials: true (with the request origin instead of *).' }),
    private_network: Type.Boolean({ default: false, description: 'Answer Access-Control-Request-Private-Network: true with Access-Control-Allow-Private-Network: true.' }),
    preflight_continue: Type.Boolean({ default: false, description: 'Proxy preflight requests to the upstream instead of answering them.' }),
    allow_origin_absent: Type.Boolean({ default: true, description: 'Add the CORS headers to responses of requests without Origin too.' }),
  },
  { additionalProperties: false },
);

export type CorsConfig = Static<typeof corsConfig>;

export const corsSchema: PluginSchema = {
  name: 'cors',
  configSchema: corsConfig,
  // typedefs.no_consumer
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index) {
    const origins = (plugin.config as CorsConfig).origins ?? [];
    return origins.flatMap((origin, i) => {
      if (origin === '*') return [];
      try {
        new RegExp(origin);
        return [];
      } catch {
        return [{ path: `plugins[${index}].config.origins[${i}]`, message: `'${origin}' is not a valid regex` }];
      }
    });
  },
};
