// The IdP's clients: the tutorial defaults, checking a client list, and turning it into
// oidc-provider client metadata.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDistinguishedName } from './subject-dn.js';
import type { IdpClientAuthMethod, IdpClientConfig } from './types.js';

/** The tutorial client's Subject DN, as typed into Keycloak's "Subject DN" field. */
export const tutorialSubjectDn = 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US';

/** Secret of the default secret-based clients. Development only: it is printed in the docs. */
export const devClientSecret = 'portcullis-dev-secret';

/**
 * The default clients:
 * - `kong`: the tutorial's client (tls_client_auth on the Subject DN, certificate-bound JWTs);
 * - `kong-opaque`: the same, with opaque tokens for introspection;
 * - `kong-secret`: client_secret_basic/post, unbound JWTs (for `optional` proof-of-possession demos);
 * - `kong-dpop`, `kong-dpop-opaque`: client_secret_basic, DPoP-bound JWTs / opaque tokens (RFC 9449);
 * - `kong-introspection`: what a gateway uses to call the introspection endpoint.
 */
export function defaultIdpClients(): IdpClientConfig[] {
  return [
    { client_id: 'kong', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: tutorialSubjectDn },
    {
      client_id: 'kong-opaque',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: tutorialSubjectDn,
      access_token_format: 'opaque',
    },
    { client_id: 'kong-secret', token_endpoint_auth_method: 'client_secret_basic', client_secret: devClientSecret },
    { client_id: 'kong-dpop', token_endpoint_auth_method: 'client_secret_basic', client_secret: devClientSecret, dpop_bound_access_tokens: true },
    {
      client_id: 'kong-dpop-opaque',
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret: devClientSecret,
      dpop_bound_access_tokens: true,
      access_token_format: 'opaque',
    },
    {
      client_id: 'kong-introspection',
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret: devClientSecret,
      introspection: true,
      grant_types: [],
    },
  ];
}

const authMethods: readonly IdpClientAuthMethod[] = [
  'tls_client_auth',
  'self_signed_tls_client_auth',
  'client_secret_basic',
  'client_secret_post',
];
const knownKeys = new Set<string>([
  'client_id',
  'token_endpoint_auth_method',
  'tls_client_auth_subject_dn',
  'certificate_pem',
  'certificate_file',
  'client_secret',
  'tls_client_certificate_bound_access_tokens',
  'access_token_format',
  'audience',
  'scopes',
  'access_token_ttl',
  'access_token_signing_alg',
  'introspection',
  'grant_types',
  'dpop_bound_access_tokens',
]);

/** A client with every default applied. */
export interface ResolvedClient extends IdpClientConfig {
  tls_client_certificate_bound_access_tokens: boolean;
  access_token_format: 'jwt' | 'opaque';
  audience: string;
  scopes: string[];
  access_token_signing_alg: 'RS256' | 'ES256';
  grant_types: string[];
  introspection: boolean;
  dpop_bound_access_tokens: boolean;
}

/**
 * Checks a client list eagerly (a TypeError naming `clients[i].field`) and applies defaults.
 * `access_token_ttl` stays unset when not given, so the IdP-wide lifetime (changeable at run time) applies.
 */
export function resolveClients(clients: readonly IdpClientConfig[], defaults: { audience: string; scopes: string[] }): ResolvedClient[] {
  if (!Array.isArray(clients) || clients.length === 0) throw new TypeError('clients must be a non-empty array');
  const seen = new Set<string>();
  return clients.map((input, i) => {
    const at = `clients[${i}]`;
    const c = input as IdpClientConfig & Record<string, unknown>;
    if (typeof c !== 'object' || c === null) throw new TypeError(`${at} must be an object`);
    for (const key of Object.keys(c)) {
      if (!knownKeys.has(key) || key === 'certificate_file') throw new TypeError(`${at}.${key}: unknown field`);
    }
    if (typeof c.client_id !== 'string' || c.client_id === '') throw new TypeError(`${at}.client_id must be a non-empty string`);
    if (seen.has(c.client_id)) throw new TypeError(`${at}.client_id: '${c.client_id}' is used twice`);
    seen.add(c.client_id);
    if (!authMethods.includes(c.token_endpoint_auth_method)) {
      throw new TypeError(`${at}.token_endpoint_auth_method must be one of ${authMethods.join(', ')}`);
    }
    const method = c.token_endpoint_auth_method;
    if (method === 'tls_client_auth') {
      if (typeof c.tls_client_auth_subject_dn !== 'string') throw new TypeError(`${at}.tls_client_auth_subject_dn is required for tls_client_auth`);
      try {
        parseDistinguishedName(c.tls_client_auth_subject_dn);
      } catch (error) {
        throw new TypeError(`${at}.tls_client_auth_subject_dn: ${(error as Error).message}`);
      }
    } else if (c.tls_client_auth_subject_dn !== undefined) {
      throw new TypeError(`${at}.tls_client_auth_subject_dn is only for tls_client_auth`);
    }
    if (method === 'self_signed_tls_client_auth') {
      if (typeof c.certificate_pem !== 'string') throw new TypeError(`${at}.certificate_pem is required for self_signed_tls_client_auth`);
      try {
        new X509Certificate(c.certificate_pem);
      } catch (error) {
        throw new TypeError(`${at}.certificate_pem is not a PEM certificate: ${(error as Error).message}`);
      }
    } else if (c.certificate_pem !== undefined) {
      throw new TypeError(`${at}.certificate_pem is only for self_signed_tls_client_auth`);
    }
    const secretBased = method === 'client_secret_basic' || method === 'client_secret_post';
    if (secretBased && (typeof c.client_secret !== 'string' || c.client_secret.length < 8)) {
      throw new TypeError(`${at}.client_secret of at least 8 characters is required for ${method}`);
    }
    if (!secretBased && c.client_secret !== undefined) throw new TypeError(`${at}.client_secret is only for the client_secret_* methods`);
    const bound =
      optionalBoolean(c.tls_client_certificate_bound_access_tokens, `${at}.tls_client_certificate_bound_access_tokens`) ?? (!secretBased && c.dpop_bound_access_tokens !== true);
    const format = c.access_token_format ?? 'jwt';
    if (format !== 'jwt' && format !== 'opaque') throw new TypeError(`${at}.access_token_format must be jwt or opaque`);
    const audience = c.audience ?? defaults.audience;
    if (typeof audience !== 'string' || audience === '') throw new TypeError(`${at}.audience must be a non-empty string`);
    const scopes = c.scopes === undefined ? defaults.scopes : checkScopes(c.scopes, `${at}.scopes`);
    if (c.access_token_ttl !== undefined) checkTtl(c.access_token_ttl, `${at}.access_token_ttl`);
    const alg = c.access_token_signing_alg ?? 'RS256';
    if (alg !== 'RS256' && alg !== 'ES256') throw new TypeError(`${at}.access_token_signing_alg must be RS256 or ES256`);
    const introspection = optionalBoolean(c.introspection, `${at}.introspection`) ?? false;
    const dpopBound = optionalBoolean(c.dpop_bound_access_tokens, `${at}.dpop_bound_access_tokens`) ?? false;
    if (dpopBound && c.tls_client_certificate_bound_access_tokens === true) {
      throw new TypeError(`${at}: a token is bound to a certificate or to a DPoP key, not both (oidc-provider refuses it); set one of the two`);
    }
    const grantTypes = c.grant_types ?? ['client_credentials'];
    if (!Array.isArray(grantTypes) || grantTypes.some((g) => g !== 'client_credentials')) {
      throw new TypeError(`${at}.grant_types may only contain client_credentials`);
    }
    return {
      ...c,
      tls_client_certificate_bound_access_tokens: bound,
      access_token_format: format,
      audience,
      scopes,
      access_token_signing_alg: alg,
      grant_types: [...grantTypes],
      introspection,
      dpop_bound_access_tokens: dpopBound,
    };
  });
}

function optionalBoolean(value: unknown, at: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new TypeError(`${at} must be true or false`);
}

/** Checks a list of scope tokens (RFC 6749 §3.3: no spaces, printable). */
export function checkScopes(value: unknown, at: string): string[] {
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))) {
    throw new TypeError(`${at} must be a list of scope names without spaces`);
  }
  return [...(value as string[])];
}

/** Checks a lifetime in seconds. */
export function checkTtl(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 86_400 * 365) {
    throw new TypeError(`${at} must be a whole number of seconds between 1 and 31536000`);
  }
  return value;
}

/** oidc-provider client metadata for a resolved client. */
export function toProviderClient(c: ResolvedClient): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    client_id: c.client_id,
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    grant_types: c.grant_types,
    response_types: [],
    redirect_uris: [],
    tls_client_certificate_bound_access_tokens: c.tls_client_certificate_bound_access_tokens,
    dpop_bound_access_tokens: c.dpop_bound_access_tokens,
    scope: c.scopes.join(' '),
  };
  if (c.tls_client_auth_subject_dn !== undefined) metadata['tls_client_auth_subject_dn'] = c.tls_client_auth_subject_dn;
  if (c.client_secret !== undefined) metadata['client_secret'] = c.client_secret;
  if (c.certificate_pem !== undefined) {
    const cert = new X509Certificate(c.certificate_pem);
    const jwk = cert.publicKey.export({ format: 'jwk' });
    metadata['jwks'] = { keys: [{ ...jwk, use: 'sig', x5c: [cert.raw.toString('base64')] }] };
  }
  return metadata;
}

/**
 * Reads a clients YAML file: either a list of clients or `{ clients: [...] }`. A client may give
 * `certificate_file` (relative to the YAML file) instead of `certificate_pem`.
 */
export async function loadIdpClientsFile(path: string): Promise<IdpClientConfig[]> {
  const text = await readFile(path, 'utf8');
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new TypeError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  const list: unknown = Array.isArray(doc) ? doc : typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['clients'] : undefined;
  if (!Array.isArray(list)) throw new TypeError(`${path}: expected a list of clients or a 'clients:' list`);
  const clients: IdpClientConfig[] = [];
  for (const [i, entry] of list.entries()) {
    if (typeof entry !== 'object' || entry === null) throw new TypeError(`${path}: clients[${i}] must be a mapping`);
    const { certificate_file: file, ...rest } = entry as Record<string, unknown>;
    const client = rest as unknown as IdpClientConfig;
    if (file !== undefined) {
      if (typeof file !== 'string') throw new TypeError(`${path}: clients[${i}].certificate_file must be a path`);
      client.certificate_pem = await readFile(resolve(dirname(path), file), 'utf8');
    }
    clients.push(client);
  }
  return clients;
}
