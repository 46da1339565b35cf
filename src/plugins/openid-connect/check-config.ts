/**
 * Load-time checks of an `openid-connect` entity that the JSON schema cannot express: methods
 * Portcullis does not implement, Kong fields it does not support, paired lists, proof-of-possession
 * prerequisites (Kong's `proof_of_possession_auth_methods_validation`) and references to other
 * entities. Every message says what to change.
 */
import { unknownConsumer } from '../../config/find-consumer.js';
import type { Config, ConfigError, PluginEntity, Route } from '../../config/types.js';
import type { CheckContext } from '../../pipeline/plugin.js';
import type { OpenIdConnectConfig } from './schema.js';
import { IMPLEMENTED_AUTH_METHODS, POP_COMPATIBLE_AUTH_METHODS, openIdConnectConfig } from './schema.js';
import { isInertValue } from './unsupported-fields.js';

/** Plugins that put a client certificate on the request (by name; they are separate plugins). */
export const CERTIFICATE_SOURCE_PLUGINS = ['tls-handshake-modifier', 'mtls-auth', 'header-cert-auth'] as const;

const HS_ALGS = ['HS256', 'HS384', 'HS512'];

export function checkOpenIdConnectConfig(plugin: PluginEntity, index: number, config: Config, context: CheckContext): ConfigError[] {
  const c = plugin.config as unknown as OpenIdConnectConfig;
  const at = (field: string): string => `plugins[${index}].config.${field}`;
  const errors: ConfigError[] = [];
  const add = (field: string, message: string): void => {
    errors.push({ path: at(field), message });
  };

  checkUnsupportedFields(plugin.config, add);

  const unimplemented = c.auth_methods.filter((m) => !IMPLEMENTED_AUTH_METHODS.includes(m));
  if (unimplemented.length > 0) {
    add(
      'auth_methods',
      `${unimplemented.join(', ')} ${unimplemented.length === 1 ? 'is' : 'are'} not implemented by Portcullis; ` +
        `set auth_methods explicitly to a subset of [${IMPLEMENTED_AUTH_METHODS.join(', ')}] (Kong's default lists all nine methods)`,
    );
  }
  if (c.auth_methods.length === 0) add('auth_methods', 'must name at least one method, e.g. [bearer]');
  if (!c.verify_signature) add('verify_signature', 'must be true: Portcullis never accepts a token without checking its signature');
  if (!c.verify_claims) add('verify_claims', 'must be true: Portcullis never accepts a token without checking its claims');
  if (c.bearer_token_param_type.includes('cookie') && c.bearer_token_cookie_name === null) {
    add('bearer_token_cookie_name', "is required when bearer_token_param_type includes 'cookie'");
  }

  checkPairs(c.discovery_headers_names, c.discovery_headers_values, 'discovery_headers', add);
  checkPairs(c.introspection_headers_names, c.introspection_headers_values, 'introspection_headers', add);
  checkPairs(c.introspection_post_args_names, c.introspection_post_args_values, 'introspection_post_args', add);
  checkPairs(c.upstream_headers_claims, c.upstream_headers_names, 'upstream_headers', add, ['claims', 'names']);

  if (c.enable_hs_signatures && (c.client_secret ?? []).length === 0) {
    add('enable_hs_signatures', 'needs client_secret: HS* tokens are only ever checked with the client secret, never with a public key');
  }
  for (const [i, alg] of (c.client_alg ?? []).entries()) {
    if (alg === 'none') add(`client_alg[${i}]`, "'none' is not allowed");
  }
  if (c.auth_methods.includes('introspection')) checkIntrospectionClient(c, config, add);
  const anonymousProblem = unknownConsumer(config, c.anonymous);
  if (anonymousProblem !== null) add('anonymous', anonymousProblem);
  if (c.consumer_claims !== null && c.consumer_claim !== null) add('consumer_claim', 'set consumer_claims or the older consumer_claim, not both');
  if (HS_ALGS.some((a) => c.token_typ_allowed.includes(a))) add('token_typ_allowed', 'lists header typ values, not algorithms');

  if (c.proof_of_possession_mtls !== 'off' || c.proof_of_possession_dpop !== 'off') errors.push(...checkProofOfPossession(plugin, index, c, config, context));
  if (c.proof_of_possession_mtls_from_header !== null) checkFromHeader(c.proof_of_possession_mtls_from_header, config, add);
  return errors;
}

/** `proof_of_possession_mtls_from_header`: its CAs must exist; HTTP proxies for OCSP/CRL are not implemented. */
function checkFromHeader(h: NonNullable<OpenIdConnectConfig['proof_of_possession_mtls_from_header']>, config: Config, add: (field: string, message: string) => void): void {
  const base = 'proof_of_possession_mtls_from_header';
  const caIds = new Set(config.ca_certificates.map((ca) => ca.id));
  for (const [i, id] of h.ca_certificates.entries()) {
    if (!caIds.has(id.toLowerCase())) add(`${base}.ca_certificates[${i}]`, `no ca_certificate with id '${id}'`);
  }
  for (const field of ['http_proxy_host', 'http_proxy_port', 'https_proxy_host', 'https_proxy_port'] as const) {
    if (h[field] !== undefined && h[field] !== null) add(`${base}.${field}`, 'HTTP proxies for revocation checks are not implemented by Portcullis; leave it null');
  }
}

function checkUnsupportedFields(raw: Readonly<Record<string, unknown>>, add: (field: string, message: string) => void): void {
  const supported = new Set(Object.keys(openIdConnectConfig.properties));
  for (const [field, value] of Object.entries(raw)) {
    if (supported.has(field) || isInertValue(field, value)) continue;
    add(field, 'is a Kong openid-connect field that Portcullis does not implement; remove it (see docs/plugins/openid-connect.md)');
  }
}

function checkPairs(
  names: readonly unknown[] | null,
  values: readonly unknown[] | null,
  base: string,
  add: (field: string, message: string) => void,
  suffixes: readonly [string, string] = ['names', 'values'],
): void {
  const a = names?.length ?? 0;
  const b = values?.length ?? 0;
  if (a !== b) add(`${base}_${suffixes[1]}`, `must have as many entries as ${base}_${suffixes[0]} (${b} vs ${a})`);
}

function checkIntrospectionClient(c: OpenIdConnectConfig, config: Config, add: (field: string, message: string) => void): void {
  const method = c.introspection_endpoint_auth_method ?? c.client_auth?.[0] ?? null;
  const ids = c.client_id ?? [];
  if (method === 'none') return;
  if (method === 'client_secret_jwt' || method === 'self_signed_tls_client_auth') {
    add('introspection_endpoint_auth_method', `'${method}' is not implemented by Portcullis; use client_secret_basic, client_secret_post, private_key_jwt or tls_client_auth`);
    return;
  }
  if (ids.length === 0) {
    add('client_id', "is required for introspection (the gateway authenticates itself to the IdP); or set introspection_endpoint_auth_method: none");
    return;
  }
  if ((method === null || method === 'client_secret_basic' || method === 'client_secret_post') && (c.client_secret ?? []).length === 0) {
    add('client_secret', `is required for ${method ?? 'client_secret_basic'} introspection client authentication`);
  }
  if (method === 'private_key_jwt' && (c.client_jwk ?? []).length === 0) add('client_jwk', 'is required for private_key_jwt');
  if (method === 'tls_client_auth') {
    if (c.tls_client_auth_cert_id === null) add('tls_client_auth_cert_id', 'is required for tls_client_auth');
    else if (!config.certificates.some((cert) => cert.id === c.tls_client_auth_cert_id)) {
      add('tls_client_auth_cert_id', `no certificate with id '${c.tls_client_auth_cert_id}'`);
    }
  }
}

function checkProofOfPossession(plugin: PluginEntity, index: number, c: OpenIdConnectConfig, config: Config, context: CheckContext): ConfigError[] {
  const errors: ConfigError[] = [];
  const at = (field: string): string => `plugins[${index}].config.${field}`;
  if (c.proof_of_possession_auth_methods_validation) {
    const incompatible = c.auth_methods.filter((m) => !POP_COMPATIBLE_AUTH_METHODS.includes(m));
    if (incompatible.length > 0) {
      const field = c.proof_of_possession_mtls !== 'off' ? 'proof_of_possession_mtls' : 'proof_of_possession_dpop';
      errors.push({
        path: at('auth_methods'),
        message:
          `${field} '${c[field]}' needs auth_methods given explicitly and limited to methods compatible with ` +
          `proof of possession (bearer, introspection, session); remove ${incompatible.join(', ')}, ` +
          'or set proof_of_possession_auth_methods_validation: false to skip the check for them',
      });
    }
  }
  // Fails closed either way (no certificate, no token passes); a whole document is told, an
  // entity-at-a-time change is not refused for it (decK adds the certificate plugin in any order).
  if (c.proof_of_possession_mtls === 'off' || c.proof_of_possession_mtls_from_header !== null || context.entityAtATime) return errors;
  const uncovered = routesOf(plugin, config).filter((route) => !hasCertificateSource(route, config));
  if (uncovered.length > 0) {
    const names = uncovered.slice(0, 5).map((r) => `'${r.name ?? r.id}'`).join(', ');
    errors.push({
      path: at('proof_of_possession_mtls'),
      message:
        `needs a client certificate on every request it checks, but no ${CERTIFICATE_SOURCE_PLUGINS.join(', ')} plugin applies to route ${names}` +
        `${uncovered.length > 5 ? ` and ${uncovered.length - 5} more` : ''}; add tls-handshake-modifier (or mtls-auth) to the same route, service or globally, ` +
        'or set proof_of_possession_mtls_from_header',
    });
  }
  return errors;
}

/** The routes an entity applies to: its route, its service's routes, or every route if global. */
function routesOf(plugin: PluginEntity, config: Config): Route[] {
  return config.routes.filter((r) => (plugin.route === null || plugin.route === r.id) && (plugin.service === null || plugin.service === r.service));
}

function hasCertificateSource(route: Route, config: Config): boolean {
  return config.plugins.some(
    (p) =>
      p.enabled &&
      p.consumer === null &&
      (CERTIFICATE_SOURCE_PLUGINS as readonly string[]).includes(p.name) &&
      (p.route === null || p.route === route.id) &&
      (p.service === null || p.service === route.service),
  );
}
