/**
 * RFC 7662 token introspection, the gateway authenticating itself as a client of the IdP with
 * `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523) or `tls_client_auth`
 * (RFC 8705 §2, a gateway certificate; the IdP's `mtls_endpoint_aliases` are preferred then).
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, importJWK, type JWK } from 'jose';
import type { IssuerMetadata } from './discovery.js';
import type { IdpClient } from './http-client.js';
import { AuthFailure } from './responses.js';
import type { ClientAuthMethod } from './schema.js';
import type { Claims } from './verify-jwt.js';

export interface IntrospectionSettings {
  readonly endpoint: string | null;
  readonly authMethod: ClientAuthMethod | null;
  readonly clientId: string | null;
  readonly clientSecret: string | null;
  readonly clientJwk: Readonly<Record<string, unknown>> | null;
  readonly clientAlg: string | null;
  readonly hint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly postArgs: Readonly<Record<string, string>>;
  readonly checkActive: boolean;
}

export class Introspector {
  readonly #settings: IntrospectionSettings;
  readonly #client: IdpClient;
  #signingKey: Promise<Awaited<ReturnType<typeof importJWK>>> | null = null;

  constructor(settings: IntrospectionSettings, client: IdpClient) {
    this.#settings = settings;
    this.#client = client;
  }

  /** Introspects a token; returns the response claims of an active token, or throws an AuthFailure. */
  async introspect(token: string, metadata: IssuerMetadata): Promise<Claims> {
    const s = this.#settings;
    const method = s.authMethod ?? pickMethod(metadata, s);
    const endpoint =
      s.endpoint ??
      (method === 'tls_client_auth' ? metadata.mtls_endpoint_aliases?.introspection_endpoint : undefined) ??
      metadata.introspection_endpoint ??
      null;
    if (endpoint === null) throw new AuthFailure('introspection_unavailable', 'no introspection_endpoint configured or discovered');
    const form = new URLSearchParams({ token, token_type_hint: s.hint, ...s.postArgs });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...s.headers };
    if (method === 'client_secret_basic') {
      // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
      const encode = (v: string): string => encodeURIComponent(v).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${encode(s.clientId ?? '')}:${encode(s.clientSecret ?? '')}`).toString('base64')}`;
    } else if (method === 'client_secret_post') {
      form.set('client_id', s.clientId ?? '');
      form.set('client_secret', s.clientSecret ?? '');
    } else if (method === 'private_key_jwt') {
      form.set('client_id', s.clientId ?? '');
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set('client_assertion', await this.#assertion(endpoint, metadata.issuer));
    } else if (method === 'tls_client_auth') {
      form.set('client_id', s.clientId ?? '');
    }
    let response;
    try {
      response = await this.#client.json(endpoint, { method: 'POST', headers, body: form.toString() });
    } catch (error) {
      throw new AuthFailure('introspection_unavailable', error instanceof Error ? error.message : String(error), { cause: error });
    }
    if (response.status !== 200) throw new AuthFailure('introspection_unavailable', `introspection endpoint answered ${response.status}`);
    const body = response.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AuthFailure('introspection_unavailable', 'introspection response is not a JSON object');
    }
    const claims = body as Claims;
    if (s.checkActive && claims.active !== true) throw new AuthFailure('token_inactive');
    return claims;
  }

  async #assertion(endpoint: string, issuer: string): Promise<string> {
    const s = this.#settings;
    const alg = s.clientAlg ?? (typeof s.clientJwk?.alg === 'string' ? s.clientJwk.alg : 'RS256');
    this.#signingKey ??= importJWK(s.clientJwk as JWK, alg);
    const key = await this.#signingKey;
    const now = Math.floor(Date.now() / 1000);
    const kid = typeof s.clientJwk?.kid === 'string' ? s.clientJwk.kid : undefined;
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader(kid === undefined ? { alg } : { alg, kid })
      .setIssuer(s.clientId ?? '')
      .setSubject(s.clientId ?? '')
      .setAudience([endpoint, issuer])
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key);
  }
}

function pickMethod(metadata: IssuerMetadata, s: IntrospectionSettings): ClientAuthMethod {
  if (s.clientId === null) return 'none';
  const supported = metadata.introspection_endpoint_auth_methods_supported ?? [];
  if (s.clientSecret !== null) return supported.includes('client_secret_basic') || !supported.includes('client_secret_post') ? 'client_secret_basic' : 'client_secret_post';
  if (s.clientJwk !== null) return 'private_key_jwt';
  return 'tls_client_auth';
}

