/**
 * `protected-resource-metadata`: RFC 9728 OAuth 2.0 Protected Resource Metadata for the routes it
 * applies to. A Portcullis plugin (Kong's openid-connect has no such fields, and Kong's own PRM
 * lives in the AI Gateway's `ai-mcp-oauth2`), so Kong files stay valid as they are. Every member
 * left null is derived from the openid-connect instance on the same route.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { StringEnum } from '../../config/schemas/common.js';
import type { PluginSchema } from '../../pipeline/plugin.js';

const nullable = <T extends TSchema>(schema: T, description: string) => Type.Union([schema, Type.Null()], { default: null, description });
const url = Type.String({ format: 'uri', pattern: '^[hH][tT][tT][pP][sS]?://', errorMessage: 'must be an http(s) URL' });
const httpsUrl = Type.String({ format: 'uri', pattern: '^[hH][tT][tT][pP][sS]://[^?#]*$', errorMessage: 'must be an https URL without query or fragment' });
const strings = (description: string) => nullable(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }), description);

export const protectedResourceMetadataConfig = Type.Object(
  {
    resource: nullable(httpsUrl, 'The resource identifier. Null: the URL the client used (scheme, authority, path), so each path of the route is its own resource as RFC 9728 §3.3 compares them.'),
    authorization_servers: nullable(Type.Array(url, { minItems: 1, uniqueItems: true }), "Issuer identifiers of the authorization servers. Null: openid-connect's issuer."),
    scopes_supported: strings("Scopes a client requests for this resource. Null: the scopes of openid-connect's scopes_required."),
    bearer_methods_supported: nullable(Type.Array(StringEnum(['header', 'body', 'query'] as const), { minItems: 1, uniqueItems: true }), "RFC 6750 ways to send the token. Null: openid-connect's bearer_token_param_type."),
    resource_name: nullable(Type.String({ minLength: 1 }), 'Human-readable name of the resource.'),
    resource_documentation: nullable(url, 'URL of developer documentation.'),
    resource_policy_uri: nullable(url, 'URL of the data-use policy.'),
    resource_tos_uri: nullable(url, 'URL of the terms of service.'),
    authorization_details_types_supported: strings('RFC 9396 authorization details types.'),
    challenge: Type.Boolean({ default: true, description: 'Add resource_metadata="<document URL>" to every challenge the route sends (RFC 9728 §5.1).' }),
    cache_max_age: Type.Integer({ minimum: 0, maximum: 86_400, default: 300, description: 'Cache-Control max-age of the document, seconds (0: no-cache).' }),
  },
  { additionalProperties: false },
);

export type ProtectedResourceMetadataConfig = Static<typeof protectedResourceMetadataConfig>;

export const protectedResourceMetadataSchema: PluginSchema = {
  name: 'protected-resource-metadata',
  configSchema: protectedResourceMetadataConfig,
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['http', 'https'],
};
