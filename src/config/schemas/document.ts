/**
 * The top level of a decK file. `_info`, `_transform`, `_konnect` and `_workspace` are decK's own
 * bookkeeping (select tags, Konnect control plane, workspace); they are accepted so that a file
 * written for decK loads unchanged, and they have no effect here.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CaCertificateSchema } from './ca-certificate.js';
import { CertificateSchema } from './certificate.js';
import { Unsupported } from './common.js';
import { ConsumerSchema } from './consumer.js';
import { ConsumerGroupSchema } from './consumer-group.js';
import { PluginEntitySchema } from './plugin.js';
import { RouteSchema } from './route.js';
import { ServiceSchema } from './service.js';
import { TargetSchema, UpstreamSchema } from './upstream.js';
import { AclSchemas, BasicAuthCredentialSchemas, JwtSecretSchemas, KeyAuthCredentialSchemas } from './credential.js';

/** The only format understood: Kong 3.x (regex paths marked with `~`). */
export const FORMAT_VERSION = '3.0';

/** decK entity lists that Portcullis does not implement yet: refused unless empty. */
export const UNSUPPORTED_SECTIONS = [
  'custom_entities',
  'degraphql_routes',
  'filter_chains',
  'key_sets',
  'keys',
  'licenses',
  'partials',
  'rbac_roles',
  'snis',
  'vaults',
] as const;

const List = <T extends Parameters<typeof Type.Array>[0]>(items: T, description: string) =>
  Type.Array(items, { default: [], description });

export const DocumentSchema = Type.Object(
  {
    // Unknown rather than String: `checkDocument` explains a bare 3.0 (a YAML number) better than "must be a string".
    _format_version: Type.Unknown({ description: 'Must be "3.0".' }),
    _info: Type.Optional(Type.Unknown({ description: 'decK metadata (select_tags, defaults); ignored.' })),
    _transform: Type.Optional(Type.Boolean({ description: 'decK flag; ignored.' })),
    _konnect: Type.Optional(Type.Unknown({ description: 'Konnect control plane; ignored.' })),
    _workspace: Type.Optional(Type.String({ description: 'Kong workspace; ignored.' })),
    services: List(ServiceSchema, 'Upstream services, each with its routes and plugins.'),
    routes: List(RouteSchema, 'Routes not nested under a service; they name theirs with `service`.'),
    consumers: List(ConsumerSchema, 'Client identities.'),
    consumer_groups: List(ConsumerGroupSchema, 'Consumer groups (Kong Enterprise), each with its members and the plugins scoped to it.'),
    plugins: List(PluginEntitySchema, 'Plugins, global or scoped with service/route/consumer.'),
    ca_certificates: List(CaCertificateSchema, 'Trusted CA certificates.'),
    certificates: List(CertificateSchema, 'Server certificates with their SNIs.'),
    upstreams: List(UpstreamSchema, 'Load-balanced virtual hosts, each with its targets.'),
    targets: List(TargetSchema, 'Targets not nested under an upstream; they name theirs with `upstream`.'),
    keyauth_credentials: List(KeyAuthCredentialSchemas.topLevel, 'API keys not nested under a consumer; they name theirs with `consumer`.'),
    basicauth_credentials: List(BasicAuthCredentialSchemas.topLevel, 'Usernames and passwords not nested under a consumer; they name theirs with `consumer`.'),
    jwt_secrets: List(JwtSecretSchemas.topLevel, 'JWT keys not nested under a consumer; they name theirs with `consumer`.'),
    acls: List(AclSchemas.topLevel, 'ACL groups not nested under a consumer; they name theirs with `consumer`.'),
    ...Object.fromEntries(UNSUPPORTED_SECTIONS.map((s) => [s, Type.Optional(Unsupported)])),
  },
  { additionalProperties: false },
);

export type DocumentInput = Static<typeof DocumentSchema>;
