/**
 * The `openid-connect` config schema: Kong's field names and defaults for the parts of the plugin
 * that make a resource server (bearer JWTs, RFC 7662 introspection, RFC 8705 binding). Kong fields
 * Portcullis does not implement are recognised (see `unsupported-fields.ts`) so they produce a
 * config error that names them instead of a bare "unknown field".
 */
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { StringEnum } from '../../config/schemas/common.js';
import type { PluginSchema } from '../../pipeline/plugin.js';
import { checkOpenIdConnectConfig } from './check-config.js';
import { DPOP_ALGORITHMS } from '../../dpop/proof.js';
import { unsupportedFieldPattern } from './unsupported-fields.js';

/** Every auth method name Kong knows. */
export const AUTH_METHODS = [
  'password',
  'client_credentials',
  'authorization_code',
  'bearer',
  'introspection',
  'userinfo',
  'kong_oauth2',
  'refresh_token',
  'session',
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** The methods Portcullis implements. */
export const IMPLEMENTED_AUTH_METHODS: readonly AuthMethod[] = ['bearer', 'introspection'];

/** Methods Kong allows together with proof of possession. */
export const POP_COMPATIBLE_AUTH_METHODS: readonly AuthMethod[] = ['bearer', 'introspection', 'session'];

export const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
  'none',
] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

const nullable = <T extends TSchema>(schema: T, description: string) => Type.Union([schema, Type.Null()], { default: null, description });
const strings = (description: string, def?: string[]) =>
  def === undefined ? nullable(Type.Array(Type.String({ minLength: 1 })), description) : Type.Array(Type.String({ minLength: 1 }), { default: def, description });
const url = Type.String({ format: 'uri', pattern: '^[hH][tT][tT][pP][sS]?://', errorMessage: 'must be an http(s) URL' });
/** Kong's header-name type: an RFC 7230 token. */
const headerName = Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", errorMessage: 'must be a valid header name' });
const claimPath = (description: string, def: string[]) => Type.Array(Type.String({ minLength: 1 }), { default: def, minItems: 1, description });

const fromHeader = Type.Object(
  {
    certificate_header_name: Type.String({
      pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
      errorMessage: 'must be a valid header name',
      description: 'Header in which the TLS-terminating proxy sends the client certificate. Required.',
    }),
    certificate_header_format: StringEnum(['url_encoded', 'base64_encoded'] as const, {
      default: 'url_encoded',
      description: 'How the proxy encodes the PEM or DER certificate in the header.',
    }),
    ca_certificates: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Ids of CA Certificate entities the header certificate must chain to.' }),
    allow_partial_chain: Type.Boolean({ default: false, description: 'Accept a chain that ends at an intermediate.' }),
    revocation_check_mode: StringEnum(['SKIP', 'IGNORE_CA_ERROR', 'STRICT'] as const, { default: 'IGNORE_CA_ERROR', description: 'OCSP/CRL checking.' }),
    cert_cache_ttl: Type.Number({ default: 60000, minimum: 0, description: 'ms a revocation result is cached.' }),
    http_timeout: Type.Number({ default: 30000, minimum: 0, description: 'ms for OCSP/CRL calls.' }),
    ssl_verify: Type.Boolean({ default: true, description: 'Verify OCSP/CRL servers.' }),
    secure_source: Type.Boolean({ default: true, description: 'Only believe the header from `--trusted-ips` peers.' }),
    // Kong's proxies for OCSP/CRL calls: accepted when null (a decK dump writes them), refused otherwise.
    http_proxy_host: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Not implemented: must be null.' })),
    http_proxy_port: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'Not implemented: must be null.' })),
    https_proxy_host: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Not implemented: must be null.' })),
    https_proxy_port: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'Not implemented: must be null.' })),
  },
  { additionalProperties: false },
);

/**
 * An object or null. Not a union: ajv writes defaults only outside `anyOf`, and an object given
 * here should get its fields' defaults (Kong's), so this is one schema of type `[object, null]`.
 */
function nullableObject<T extends TObject>(schema: T, description: string) {
  return Type.Unsafe<Static<T> | null>({
    type: ['object', 'null'],
    properties: schema.properties,
    required: schema.required,
    additionalProperties: false,
    default: null,
    description,
  });
}

export const openIdConnectConfig = Type.Object(
  {
    // Issuer, discovery and keys.
    issuer: Type.String({ format: 'uri', pattern: '^[hH][tT][tT][pP][sS]?://', errorMessage: 'must be an http(s) URL', description: 'The issuer identifier or its discovery document URL.' }),
    issuers_allowed: strings('Further `iss` values accepted in tokens (default: only the discovered issuer).'),
    discovery_headers_names: strings('Names of extra headers sent with discovery and JWKS requests.'),
    discovery_headers_values: strings('Values of those headers, same order.'),
    extra_jwks_uris: nullable(Type.Array(url, { uniqueItems: true }), 'More JWKS URLs whose keys are trusted for this issuer.'),
    jwks_endpoint: nullable(url, 'Use this JWKS URL instead of the discovered `jwks_uri`.'),
    rediscovery_lifetime: Type.Number({ default: 30, minimum: 0, description: 'Seconds between two rediscoveries (unknown `kid` refetch cooldown); 5 s after a failure.' }),
    cache_ttl: Type.Number({ default: 3600, minimum: 0, description: 'Seconds discovery, keys and token results are cached when nothing shorter applies.' }),
    ssl_verify: Type.Boolean({ default: true, description: "Verify the IdP's TLS certificate (system CAs plus `--trusted-certificate`)." }),
    timeout: Type.Number({ default: 10000, minimum: 1, description: 'ms for each call to the IdP.' }),
    keepalive: Type.Boolean({ default: true, description: 'Keep connections to the IdP open between calls.' }),

    // Which methods, and where the token is.
    auth_methods: Type.Array(StringEnum(AUTH_METHODS), {
      default: [...AUTH_METHODS],
      uniqueItems: true,
      description: 'Authentication methods; Portcullis implements `bearer` and `introspection`.',
    }),
    bearer_token_param_type: Type.Array(StringEnum(['header', 'cookie', 'query', 'body'] as const), {
      default: ['body', 'header', 'query'],
      uniqueItems: true,
      description: 'Where to look for the access token; `body` reads a form or JSON body (buffered, only when no other place has a token).',
    }),
    bearer_token_header_name: nullable(headerName, 'Only read the token from this header (with or without a `Bearer` scheme).'),
    bearer_token_cookie_name: nullable(Type.String({ minLength: 1 }), 'Cookie that carries the token (with `cookie`).'),

    // The gateway as a client of the IdP (introspection).
    client_id: strings('Client id(s) of the gateway at the IdP, for introspection.'),
    client_secret: strings('Client secret(s), same order as `client_id`; also the HS* key with `enable_hs_signatures`.'),
    client_auth: nullable(Type.Array(StringEnum(CLIENT_AUTH_METHODS)), 'How the gateway authenticates to the IdP, per client.'),
    client_jwk: nullable(Type.Array(Type.Record(Type.String(), Type.Unknown())), 'Private JWK(s) for `private_key_jwt`.'),
    client_alg: nullable(Type.Array(Type.String({ minLength: 1 })), 'Signing algorithm(s) for `private_key_jwt`/`client_secret_jwt` assertions.'),
    tls_client_auth_cert_id: nullable(Type.String({ minLength: 1 }), 'Id of a Certificate entity presented to the IdP for `tls_client_auth`.'),
    introspection_endpoint: nullable(url, 'Introspection endpoint (default: discovered).'),
    introspection_endpoint_auth_method: nullable(StringEnum(CLIENT_AUTH_METHODS), 'Client authentication for introspection (default: `client_auth`, else the first the IdP supports).'),
    introspection_hint: Type.String({ default: 'access_token', description: '`token_type_hint` sent with introspection.' }),
    introspection_headers_names: strings('Extra header names for introspection requests.'),
    introspection_headers_values: strings('Their values, same order.'),
    introspection_post_args_names: strings('Extra form arguments for introspection requests.'),
    introspection_post_args_values: strings('Their values, same order.'),
    introspection_accept: StringEnum(['application/json', 'application/token-introspection+jwt', 'application/jwt'] as const, {
      default: 'application/json',
      description: 'Accept header of introspection; Portcullis reads JSON responses only.',
    }),
    introspection_check_active: Type.Boolean({ default: true, description: 'Require `active: true` in the introspection response.' }),
    introspect_jwt_tokens: Type.Boolean({ default: false, description: 'Also introspect JWTs (e.g. to see revocation).' }),
    cache_introspection: Type.Boolean({ default: true, description: 'Cache introspection results (never beyond the token `exp`).' }),

    // Verification.
    verify_signature: Type.Boolean({ default: true, description: 'Must stay true: Portcullis always verifies signatures.' }),
    verify_claims: Type.Boolean({ default: true, description: 'Must stay true: Portcullis always verifies claims.' }),
    enable_hs_signatures: Type.Boolean({ default: false, description: 'Accept HS256/384/512 tokens signed with `client_secret`.' }),
    leeway: Type.Number({ default: 0, minimum: 0, description: 'Seconds of clock skew allowed for `exp`, `nbf`, `iat`, `auth_time`.' }),
    token_typ_allowed: Type.Array(Type.String({ minLength: 1 }), {
      default: ['JWT', 'at+jwt'],
      minItems: 1,
      description: 'Portcullis extension: accepted JWT header `typ` values (case-insensitive, `application/` optional); an absent `typ` counts as `JWT`.',
    }),
    audience_required: strings('Required audiences: space-separated values are all required, list elements are alternatives.'),
    audience_claim: claimPath('Claim path of the audience.', ['aud']),
    scopes_required: strings('Required scopes, same AND/OR rule.'),
    scopes_claim: claimPath('Claim path of the scopes.', ['scope']),
    groups_required: strings('Required groups, same AND/OR rule.'),
    groups_claim: claimPath('Claim path of the groups.', ['groups']),
    roles_required: strings('Required roles, same AND/OR rule.'),
    roles_claim: claimPath('Claim path of the roles.', ['roles']),
    claims_forbidden: strings('Claims that must not be present.'),
    max_age: nullable(Type.Number({ minimum: 0 }), 'Maximum seconds since `auth_time`.'),

    // Identity.
    consumer_claims: nullable(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), 'Claims whose value names the consumer; the first present one is used.'),
    consumer_claim: nullable(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), 'Before Kong 3.14: the path of the one consumer claim.'),
    consumer_by: Type.Array(StringEnum(['id', 'username', 'custom_id'] as const), { default: ['custom_id', 'username'], minItems: 1, description: 'Consumer fields the claim value is matched against.' }),
    by_username_ignore_case: Type.Boolean({ default: false, description: 'Match usernames case-insensitively.' }),
    consumer_optional: Type.Boolean({ default: false, description: 'Let a token through when no consumer matches.' }),
    anonymous: nullable(Type.String({ minLength: 1 }), 'Consumer (id or username) used instead of refusing.'),
    credential_claim: claimPath('Claim path of the credential identifier.', ['sub']),
    authenticated_groups_claim: nullable(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), 'Claim path of the groups sent as `X-Authenticated-Groups`.'),

    // Upstream.
    upstream_headers_claims: strings('Top-level claims sent upstream…'),
    upstream_headers_names: nullable(Type.Array(headerName), '…in these headers, same order.'),
    upstream_access_token_header: Type.Union(
      [Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+(:[A-Za-z0-9_-]+)?$", errorMessage: 'must be `header` or `header:scheme`' }), Type.Null()],
      { default: 'authorization:bearer', description: 'Header (`name:scheme`) that carries the token upstream; null sends none.' },
    ),
    hide_credentials: Type.Boolean({ default: true, description: 'Remove the credential the client sent (header, cookie, query argument or body member) before proxying.' }),

    // Proof of possession.
    proof_of_possession_mtls: StringEnum(['off', 'strict', 'optional'] as const, { default: 'off', description: 'RFC 8705 certificate binding.' }),
    proof_of_possession_auth_methods_validation: Type.Boolean({ default: true, description: 'With PoP on, only allow PoP-compatible `auth_methods`.' }),
    proof_of_possession_mtls_from_header: nullableObject(fromHeader, 'Take the client certificate for the binding check from a trusted proxy header, verified against `ca_certificates`.'),
    proof_of_possession_dpop: StringEnum(['off', 'strict', 'optional'] as const, {
      default: 'off',
      description: 'RFC 9449 DPoP: strict checks a proof on every request; optional only for tokens bound to a DPoP key (`cnf.jkt`).',
    }),
    dpop_proof_lifetime: Type.Number({ default: 300, exclusiveMinimum: 0, description: 'Seconds a proof stays usable after its `iat` (or after its nonce was issued, with `dpop_use_nonce`).' }),
    dpop_use_nonce: Type.Boolean({ default: false, description: 'Require a nonce issued by the gateway in every proof (RFC 9449 §9); stateless, keyed by the gateway.' }),
    dpop_proof_algorithms: Type.Array(StringEnum(DPOP_ALGORITHMS), {
      default: [...DPOP_ALGORITHMS],
      minItems: 1,
      uniqueItems: true,
      description: 'Portcullis extension: the JWS algorithms a proof may use, sent as `algs` in the DPoP challenge.',
    }),
    dpop_proof_clock_skew: Type.Number({ default: 5, minimum: 0, description: 'Portcullis extension: seconds a proof `iat` may lie in the future.' }),

    // Responses.
    unauthorized_error_message: Type.String({ default: 'Unauthorized', description: 'Body `message` of a 401.' }),
    forbidden_error_message: Type.String({ default: 'Forbidden', description: 'Body `message` of a 403.' }),
    display_errors: Type.Boolean({ default: false, description: 'Append the reason to the message (and send `error_description`).' }),
    expose_error_code: Type.Boolean({ default: true, description: 'Send `error` (RFC 6750) in `WWW-Authenticate`.' }),
    run_on_preflight: Type.Boolean({ default: true, description: 'Authenticate CORS preflight `OPTIONS` requests too.' }),
  },
  {
    additionalProperties: false,
    patternProperties: { [unsupportedFieldPattern]: {} },
  },
);

export type OpenIdConnectConfig = Static<typeof openIdConnectConfig>;

export const openIdConnectSchema: PluginSchema = {
  name: 'openid-connect',
  configSchema: openIdConnectConfig,
  // Kong: no_consumer, no_consumer_group.
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig: checkOpenIdConnectConfig,
};
