/**
 * Kong `openid-connect` fields Portcullis does not implement. A decK dump of a Kong plugin writes
 * every field, mostly with its default or null, so such a field is accepted when it is null, an
 * empty list or Kong's default; any other value is a config error naming the field, because the
 * user asked for behaviour Portcullis would otherwise silently not provide.
 */

/** Prefixes (and whole names) of Kong fields that belong to flows Portcullis does not implement. */
const PREFIXES = [
  'session_', 'authorization_', 'login_', 'logout_', 'redirect_uri', 'response_', 'refresh_token', 'token_exchange',
  'token_endpoint', 'token_headers_', 'token_post_args_', 'token_cache_key', 'userinfo_', 'upstream_', 'downstream_',
  'dpop_', 'cluster_cache_', 'cache_', 'verify_', 'ignore_signature', 'unauthorized_',
  'forbidden_', 'unexpected_redirect_uri', 'pushed_authorization', 'require_', 'revocation_', 'end_session', 'mtls_',
  'http_proxy', 'https_proxy', 'no_proxy', 'scopes', 'audience', 'domains', 'enable_hs_', 'search_user_info',
  'using_pseudo_issuer', 'consumer_groups_', 'id_token_', 'roles_', 'groups_', 'claims_', 'client_', 'display_',
  'introspection_', 'jwt_session_', 'hide_', 'preserve_query_args', 'bearer_', 'password_', 'anonymous', 'max_age',
  'resolve_distributed_claims', 'tls_client_auth_', 'disable_session', 'run_on_', 'expose_', 'keepalive', 'timeout',
  'ssl_', 'leeway', 'credential_', 'consumer_', 'by_username', 'issuers_', 'extra_jwks', 'jwks_', 'rediscovery_',
  'discovery_', 'auth_methods', 'introspect_', 'redis', 'issuer', 'proxy_', 'unauthorized_destroy', 'forbidden_destroy',
];

/**
 * One regex for the schema's `patternProperties`: every name starting with a Kong prefix. Names that
 * Portcullis supports are matched by `properties` first, so this only catches the others.
 */
export const unsupportedFieldPattern = `^(${PREFIXES.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`;

/** Kong's defaults for unsupported fields whose default is neither null nor an empty list. */
const KONG_DEFAULTS: Readonly<Record<string, unknown>> = {
  verify_nonce: true,
  verify_parameters: false,
  cache_tokens: true,
  cache_tokens_salt: null,
  cache_user_info: true,
  cache_token_exchange: true,
  cache_ttl_max: null,
  cache_ttl_min: null,
  cache_ttl_neg: null,
  cache_ttl_resurrect: null,
  cluster_cache_strategy: 'off',
  unauthorized_destroy_session: true,
  forbidden_destroy_session: true,
  token_cache_key_include_scope: false,
  session_storage: 'cookie',
  response_mode: 'query',
  response_type: ['code'],
  scopes: ['openid'],
  login_action: 'upstream',
  login_tokens: ['id_token'],
  logout_methods: ['POST', 'DELETE'],
  logout_query_arg: null,
  logout_post_arg: null,
  logout_revoke: false,
  logout_revoke_access_token: true,
  logout_revoke_refresh_token: true,
  refresh_tokens: true,
  preserve_query_args: false,
  search_user_info: false,
  using_pseudo_issuer: false,
  require_proof_key_for_code_exchange: null,
  require_pushed_authorization_requests: null,
  require_signed_request_object: null,
  resolve_distributed_claims: false,
  disable_session: null,
  ignore_signature: [],
  token_exchange_endpoint: null,
  by_username_ignore_case: false,
  consumer_groups_optional: false,
  id_token_param_type: ['query', 'header', 'body'],
  upstream_user_info_header: null,
  introspection_token_param_name: 'token',
  token_endpoint_auth_method: null,
  token_post_args_client: null,
  userinfo_accept: 'application/json',
  authorization_cookie_name: 'authorization',
  authorization_rolling_timeout: 600,
  session_cookie_name: 'session',
  session_idling_timeout: 900,
  session_absolute_timeout: 86400,
  session_rolling_timeout: 3600,
  session_cookie_path: '/',
  session_cookie_http_only: true,
  session_cookie_secure: null,
  session_cookie_same_site: 'Lax',
  session_remember: false,
  session_remember_cookie_name: 'remember',
  session_remember_rolling_timeout: 604800,
  session_remember_absolute_timeout: 2592000,
  session_hash_subject: false,
  session_hash_storage_key: false,
  session_store_metadata: false,
  session_enforce_same_subject: false,
  session_request_headers: null,
  session_response_headers: null,
  session_audience: 'default',
};

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether an unsupported field's value asks for nothing (null, empty, or Kong's default). */
export function isInertValue(field: string, value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value) && value.length === 0) return true;
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return true;
  return field in KONG_DEFAULTS && sameValue(KONG_DEFAULTS[field], value);
}
