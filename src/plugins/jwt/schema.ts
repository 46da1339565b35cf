import { Type, type Static } from '@sinclair/typebox';
import { unknownConsumer } from '../../config/find-consumer.js';
import type { ConfigError } from '../../config/types.js';
import { StringEnum } from '../../config/schemas/common.js';
import type { PluginSchema } from '../../pipeline/plugin.js';

/** Kong's `set` of strings: an array, duplicates dropped when the config is used. */
const NameSet = (defaults: readonly string[], description: string) => Type.Array(Type.String({ minLength: 1 }), { default: [...defaults], description });

/** Kong's jwt (kong/plugins/jwt/schema.lua): HS/RS/PS/ES/EdDSA tokens checked against the consumers' jwt_secrets. */
export const jwtConfig = Type.Object(
  {
    uri_param_names: NameSet(['jwt'], 'Query-string parameters a token is looked for under.'),
    cookie_names: NameSet([], 'Cookies a token is looked for under.'),
    header_names: NameSet(['authorization'], 'Headers a token is looked for under, as `Bearer <token>`.'),
    key_claim_name: Type.String({ minLength: 1, default: 'iss', description: 'The claim (in the payload, else the header) naming the jwt_secrets key.' }),
    secret_is_base64: Type.Boolean({ default: false, description: 'The HS* secrets are base64: tokens are signed with the decoded bytes.' }),
    claims_to_verify: Type.Union([Type.Array(StringEnum(['exp', 'nbf'] as const)), Type.Null()], {
      default: null,
      description: 'Registered claims to check: `exp` (not expired) and `nbf` (already valid).',
    }),
    anonymous: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: null,
      description: 'Consumer (id or username) to use when authentication fails; null: the request fails (401).',
    }),
    run_on_preflight: Type.Boolean({ default: true, description: 'Authenticate OPTIONS requests too; false lets them through.' }),
    maximum_expiration: Type.Number({
      minimum: 0,
      maximum: 31536000,
      default: 0,
      description: 'When above 0, a token must expire within this many seconds (claims_to_verify must then include exp).',
    }),
    realm: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null, description: 'The realm of the `WWW-Authenticate: Bearer` challenge.' }),
  },
  { additionalProperties: false },
);

export type JwtConfig = Static<typeof jwtConfig>;

export const jwtSchema: PluginSchema = {
  name: 'jwt',
  configSchema: jwtConfig,
  // typedefs.no_consumer: the token is what finds the consumer.
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index, config) {
    const own = plugin.config as JwtConfig;
    const errors: ConfigError[] = [];
    const problem = unknownConsumer(config, own.anonymous);
    if (problem !== null) errors.push({ path: `plugins[${index}].config.anonymous`, message: problem });
    // Kong's entity check: a maximum lifetime means nothing unless exp is verified.
    if (own.maximum_expiration > 0 && !(own.claims_to_verify ?? []).includes('exp')) {
      errors.push({ path: `plugins[${index}].config.claims_to_verify`, message: 'expected to contain: exp (maximum_expiration is above 0)' });
    }
    return errors;
  },
};
