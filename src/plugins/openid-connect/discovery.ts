/**
 * Issuer discovery: OpenID Connect Discovery 1.0 (`<issuer>/.well-known/openid-configuration`),
 * falling back to RFC 8414 (`/.well-known/oauth-authorization-server`, inserted before the issuer's
 * path, then appended). An issuer given as a discovery URL is used as is. The document's `issuer`
 * must be the issuer we asked for (OIDC Discovery §4.3, RFC 8414 §3.3), or its keys are not trusted.
 */
import type { IdpClient } from './http-client.js';
import { IdpHttpError } from './http-client.js';

const OIDC_SUFFIX = '/.well-known/openid-configuration';
const OAUTH_SUFFIX = '/.well-known/oauth-authorization-server';

/** The members of a discovery document the plugin uses; others are kept for the admin API. */
export interface IssuerMetadata {
  readonly issuer: string;
  readonly jwks_uri?: string;
  readonly introspection_endpoint?: string;
  readonly introspection_endpoint_auth_methods_supported?: readonly string[];
  readonly mtls_endpoint_aliases?: Readonly<Record<string, string>>;
  readonly [member: string]: unknown;
}

/** The issuer identifier and the discovery URLs to try, in order. */
export function discoveryTargets(configured: string): { issuer: string; urls: string[] } {
  for (const suffix of [OIDC_SUFFIX, OAUTH_SUFFIX]) {
    if (configured.endsWith(suffix)) return { issuer: configured.slice(0, -suffix.length), urls: [configured] };
    // RFC 8414 form: https://host/.well-known/oauth-authorization-server/realms/x
    const url = new URL(configured);
    if (url.pathname.startsWith(`${suffix}/`)) {
      return { issuer: `${url.origin}${url.pathname.slice(suffix.length)}`, urls: [configured] };
    }
  }
  const issuer = configured.replace(/\/+$/, '');
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname;
  const urls = [`${issuer}${OIDC_SUFFIX}`, `${url.origin}${OAUTH_SUFFIX}${path}`];
  if (path !== '') urls.push(`${issuer}${OAUTH_SUFFIX}`);
  return { issuer, urls };
}

const sameIssuer = (a: string, b: string): boolean => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** Fetches and checks the discovery document. Throws IdpHttpError with a message for the log. */
export async function discoverIssuer(client: IdpClient, configured: string, headers: Record<string, string>): Promise<IssuerMetadata> {
  const { issuer, urls } = discoveryTargets(configured);
  const failures: string[] = [];
  for (const url of urls) {
    const response = await client.json(url, { headers });
    if (response.status === 404 || response.status === 405 || response.status === 400) {
      failures.push(`${url} answered ${response.status}`);
      continue;
    }
    if (response.status < 200 || response.status >= 300) throw new IdpHttpError(`${url} answered ${response.status}`, response.status);
    return checkMetadata(response.body, issuer, url);
  }
  throw new IdpHttpError(`no discovery document found: ${failures.join('; ')}`);
}

function checkMetadata(body: unknown, issuer: string, url: string): IssuerMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new IdpHttpError(`${url} is not a JSON object`);
  const doc = body as Record<string, unknown>;
  if (typeof doc.issuer !== 'string') throw new IdpHttpError(`${url} has no issuer`);
  if (!sameIssuer(doc.issuer, issuer)) throw new IdpHttpError(`${url} names issuer '${doc.issuer}', expected '${issuer}'`);
  for (const member of ['jwks_uri', 'introspection_endpoint'] as const) {
    const value = doc[member];
    if (value !== undefined && (typeof value !== 'string' || !/^https?:\/\//i.test(value) || !URL.canParse(value))) {
      throw new IdpHttpError(`${url} has an invalid ${member}`);
    }
  }
  return doc as IssuerMetadata;
}
