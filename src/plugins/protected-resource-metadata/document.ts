/**
 * The RFC 9728 §2 document for one resource: configured members first, the rest derived from the
 * openid-connect instance on the same route (its issuer, token locations, scopes and bindings).
 * Members without a value are left out, as §3.2 requires.
 */
import type { OpenIdConnectConfig } from '../openid-connect/schema.js';
import { discoveryTargets } from '../openid-connect/discovery.js';
import type { ProtectedResourceMetadataConfig } from './schema.js';

export const WELL_KNOWN_PREFIX = '/.well-known/oauth-protected-resource';

/** RFC 9728 §3.1: the suffix goes between the host and the path; a path of `/` alone is dropped. */
export function metadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}${WELL_KNOWN_PREFIX}${url.pathname === '/' ? '' : url.pathname}`;
}

export type ResourceMetadata = Record<string, string | boolean | readonly string[]>;

export function resourceMetadata(resource: string, config: ProtectedResourceMetadataConfig, oidc: OpenIdConnectConfig | null): ResourceMetadata {
  const doc: ResourceMetadata = { resource };
  const servers = config.authorization_servers ?? (oidc === null ? null : [discoveryTargets(oidc.issuer).issuer]);
  if (servers !== null) doc['authorization_servers'] = servers;
  const scopes = config.scopes_supported ?? (oidc === null ? null : scopesOf(oidc.scopes_required));
  if (scopes !== null && scopes.length > 0) doc['scopes_supported'] = scopes;
  const bearerMethods = config.bearer_methods_supported ?? (oidc === null ? null : bearerMethodsOf(oidc));
  if (bearerMethods !== null && bearerMethods.length > 0) doc['bearer_methods_supported'] = bearerMethods;
  for (const member of ['resource_name', 'resource_documentation', 'resource_policy_uri', 'resource_tos_uri', 'authorization_details_types_supported'] as const) {
    const value = config[member];
    if (value !== null) doc[member] = value;
  }
  if (oidc !== null) {
    doc['tls_client_certificate_bound_access_tokens'] = oidc.proof_of_possession_mtls !== 'off';
    if (oidc.proof_of_possession_dpop !== 'off') doc['dpop_signing_alg_values_supported'] = oidc.dpop_proof_algorithms;
    doc['dpop_bound_access_tokens_required'] = oidc.proof_of_possession_dpop === 'strict';
  }
  return doc;
}

/** Kong's scopes_required lists alternatives of space-separated sets: every scope named, once. */
function scopesOf(required: readonly string[] | null): string[] | null {
  if (required === null) return null;
  return [...new Set(required.flatMap((entry) => entry.split(' ').filter((scope) => scope !== '')))];
}

/**
 * Where openid-connect reads a token, in RFC 6750 terms (a cookie is none of them). Strict DPoP
 * takes the token only from the Authorization header (RFC 9449 §7.1), so `header` alone.
 */
function bearerMethodsOf(oidc: OpenIdConnectConfig): string[] {
  if (oidc.proof_of_possession_dpop === 'strict') return ['header'];
  return (['header', 'body', 'query'] as const).filter((method) => oidc.bearer_token_param_type.includes(method));
}
