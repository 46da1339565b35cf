/**
 * Kong-shaped schemas of the entities (`GET /schemas/{entity}`) and of each plugin
 * (`GET /schemas/plugins/{name}`), generated from the TypeBox schemas the configuration is validated
 * with (see `kong-schema.ts` for the mapping). The decK-file forms differ from Kong's entities in a
 * few places, fixed here: a service's `url` shorthand and nested `routes`/`plugins` (an upstream's
 * `targets`) are decK's, not fields; references are Kong `foreign` fields; `protocol` and `port` get
 * Kong's defaults (in a file they follow from `url`), so do an upstream's `algorithm` and `hash_on`
 * (no schema default: Kong's shorthand depends on whether they were written); every entity has
 * Kong's `id`, `created_at` and `updated_at`.
 */
import type { TSchema } from '@sinclair/typebox';
import { CaCertificateSchema } from '../config/schemas/ca-certificate.js';
import { CertificateSchema } from '../config/schemas/certificate.js';
import { ConsumerSchema, UNSUPPORTED_CONSUMER_FIELDS } from '../config/schemas/consumer.js';
import { ConsumerGroupSchema } from '../config/schemas/consumer-group.js';
import { AclSchemas, BasicAuthCredentialSchemas, JwtSecretSchemas, KeyAuthCredentialSchemas } from '../config/schemas/credential.js';
import { CREDENTIAL_KEYS } from '../config/credential-kinds.js';
import { PluginEntitySchema, PROTOCOLS } from '../config/schemas/plugin.js';
import { RouteSchema } from '../config/schemas/route.js';
import { ServiceSchema, SERVICE_PROTOCOLS } from '../config/schemas/service.js';
import { TargetSchema, UpstreamSchema } from '../config/schemas/upstream.js';
import type { PluginSchema } from '../pipeline/plugin.js';
import { kongField, kongFields, type KongFieldEntry, type KongSchema } from './kong-schema.js';

type Json = Record<string, unknown>;

const ID: Json = { type: 'string', uuid: true, auto: true, description: 'A string representing a UUID (universally unique identifier).' };
const TIMESTAMP: Json = { type: 'integer', timestamp: true, auto: true, description: 'Unix epoch when the resource was created.' };
const UPDATED: Json = { ...TIMESTAMP, description: 'Unix epoch when the resource was last updated.' };

function foreign(reference: string, description: string, nullable = true): Json {
  return { type: 'foreign', reference, ...(nullable ? { default: null } : { required: true }), description };
}

interface EntityShape {
  readonly schema: TSchema;
  /** decK-file members that are not fields of the Kong entity. */
  readonly omit?: readonly string[];
  /** Fields whose Kong definition is not what the TypeBox schema says. */
  readonly replace?: Readonly<Record<string, Json>>;
  /** Kong's defaults of fields the TypeBox schema leaves without one on purpose (decK fills them from here). */
  readonly defaults?: Readonly<Record<string, unknown>>;
}

const SHAPES: Readonly<Record<string, EntityShape>> = {
  services: {
    schema: ServiceSchema,
    omit: ['url', 'routes', 'plugins'],
    replace: {
      protocol: { type: 'string', required: true, default: 'http', one_of: [...SERVICE_PROTOCOLS], description: 'The protocol used to communicate with the upstream.' },
      host: { type: 'string', required: true, description: 'The host of the upstream server.' },
      port: { type: 'integer', required: true, default: 80, between: [0, 65535], description: 'The upstream server port.' },
      path: { type: 'string', starts_with: '/', description: 'The path to be used in requests to the upstream server.' },
      client_certificate: foreign('certificates', 'Certificate to be used as client certificate while TLS handshaking to the upstream server.'),
      ca_certificates: { type: 'array', elements: { type: 'string', uuid: true }, description: 'Array of CA Certificate object UUIDs used to verify the upstream certificate.' },
    },
  },
  routes: {
    schema: RouteSchema,
    omit: ['plugins'],
    replace: { service: foreign('services', 'The Service this Route is associated to.') },
  },
  consumers: { schema: ConsumerSchema, omit: ['plugins', 'groups', ...UNSUPPORTED_CONSUMER_FIELDS, ...CREDENTIAL_KEYS] },
  consumer_groups: { schema: ConsumerGroupSchema, omit: ['consumers', 'plugins'] },
  plugins: {
    schema: PluginEntitySchema,
    replace: {
      service: foreign('services', 'If set, the plugin will only activate when receiving requests via one of the routes belonging to the specified Service.'),
      route: foreign('routes', 'If set, the plugin will only activate when receiving requests via the specified route.'),
      consumer: foreign('consumers', 'If set, the plugin will activate only for requests where the specified consumer has been authenticated.'),
      consumer_group: foreign('consumer_groups', 'If set, the plugin will activate only for requests where the authenticated consumer is in the specified consumer group.'),
      config: { type: 'record', abstract: true, description: 'The configuration properties for the Plugin.' },
    },
  },
  certificates: {
    schema: CertificateSchema,
    replace: { snis: { type: 'array', elements: { type: 'string' }, description: 'Server names served with this certificate (SNI entities).' } },
  },
  ca_certificates: { schema: CaCertificateSchema },
  upstreams: {
    schema: UpstreamSchema,
    omit: ['targets'],
    replace: { client_certificate: foreign('certificates', 'If set, the certificate to be used as client certificate while TLS handshaking to the upstream server.') },
    defaults: { algorithm: 'round-robin', hash_on: 'none' },
  },
  targets: {
    schema: TargetSchema,
    replace: { upstream: foreign('upstreams', 'The unique identifier or the name of the upstream for which to update the target.', false) },
  },
  keyauth_credentials: {
    schema: KeyAuthCredentialSchemas.topLevel,
    omit: ['ttl'],
    replace: { consumer: foreign('consumers', 'The consumer the key belongs to.', false), key: { type: 'string', unique: true, auto: true, description: 'The API key; generated when absent.' } },
  },
  basicauth_credentials: {
    schema: BasicAuthCredentialSchemas.topLevel,
    replace: {
      consumer: foreign('consumers', 'The consumer the credential belongs to.', false),
      username: { type: 'string', required: true, unique: true, description: 'The username; unique across every consumer.' },
      password: { type: 'string', required: true, encrypted: true, description: 'The password; stored (and shown) as the SHA-1 of the password and the consumer id.' },
    },
  },
  jwt_secrets: {
    schema: JwtSecretSchemas.topLevel,
    replace: {
      consumer: foreign('consumers', 'The consumer the key belongs to.', false),
      key: { type: 'string', required: false, unique: true, auto: true, description: "What the token's key claim names; generated when absent." },
      secret: { type: 'string', auto: true, description: 'The HMAC secret; generated when absent.' },
    },
  },
  acls: {
    schema: AclSchemas.topLevel,
    replace: { consumer: foreign('consumers', 'The consumer in the group.', false) },
  },
};

/** Kong's SNI entity: stored inside its certificate here, so it has no TypeBox schema of its own. */
const SNI_SCHEMA: KongSchema = {
  fields: [
    { id: ID },
    { name: { type: 'string', required: true, unique: true, description: 'The SNI name to associate with the given certificate.' } },
    { created_at: TIMESTAMP },
    { updated_at: UPDATED },
    { tags: { type: 'set', elements: { type: 'string', required: true }, description: 'A set of strings representing tags.' } },
    { certificate: foreign('certificates', 'The id (a UUID) of the certificate with which to associate the SNI hostname.', false) },
  ],
  entity_checks: [],
};

/** Entities `GET /schemas/{entity}` knows. */
export const SCHEMA_ENTITIES: readonly string[] = [...Object.keys(SHAPES), 'snis'];

/** `GET /schemas/{entity}`, or null for an entity Portcullis does not have. */
export function entityKongSchema(entity: string): KongSchema | null {
  if (entity === 'snis') return SNI_SCHEMA;
  const shape = Object.hasOwn(SHAPES, entity) ? SHAPES[entity] : undefined;
  if (shape === undefined) return null;
  const omit = new Set(['id', ...(shape.omit ?? [])]);
  const generated = kongFields(shape.schema as unknown as Json, omit).map((entry): KongFieldEntry => {
    const [name] = Object.keys(entry) as [string];
    const replacement = shape.replace?.[name];
    if (replacement !== undefined) return { [name]: replacement };
    // A field with a default can never be unset: required, as `kongField` marks the others.
    const fallback = shape.defaults?.[name];
    return fallback === undefined ? entry : { [name]: { ...entry[name], default: fallback, required: true } };
  });
  return { fields: [{ id: ID }, { created_at: TIMESTAMP }, { updated_at: UPDATED }, ...generated], entity_checks: [] };
}

/**
 * `GET /schemas/plugins/{name}`: as Kong, only the fields the plugin's own schema declares: the
 * scopes it refuses (`eq: null`, Kong's `no_consumer`, `no_route`, `no_service`), its `protocols`
 * with the plugin's default, and `config`, a required record.
 */
export function pluginKongSchema(plugin: PluginSchema): KongSchema {
  const refused = (['consumer', 'route', 'service'] as const)
    .filter((scope) => !plugin.scopes[scope])
    .map((scope): KongFieldEntry => ({ [scope]: { type: 'foreign', reference: `${scope}s`, eq: null, description: 'Custom type for representing a foreign key with a null value allowed.' } }));
  const protocols: Json = {
    type: 'set',
    required: true,
    default: [...plugin.defaultProtocols],
    elements: { type: 'string', one_of: [...PROTOCOLS] },
    description: 'A set of strings representing protocols.',
  };
  const config = kongField(plugin.configSchema, { topLevel: true });
  return { fields: [...refused, { protocols }, { config: { ...config, required: true } }], entity_checks: [] };
}
