// The oidc-provider configuration of the development IdP: Keycloak's paths, client_credentials,
// RFC 8705 mTLS client authentication and certificate-bound tokens, JWT or opaque access tokens
// through resource indicators, introspection.
import type { TLSSocket } from 'node:tls';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { ResolvedClient } from './clients.js';
import { toProviderClient } from './clients.js';
import { certificateSubjectString, subjectDnMatches } from './subject-dn.js';
import type { TokenStore } from './token-store.js';

/** Keycloak's endpoint paths below `/realms/<realm>`, as oidc-provider route names. */
export const keycloakRoutes = {
  authorization: '/protocol/openid-connect/auth',
  token: '/protocol/openid-connect/token',
  jwks: '/protocol/openid-connect/certs',
  introspection: '/protocol/openid-connect/token/introspect',
  revocation: '/protocol/openid-connect/revoke',
  userinfo: '/protocol/openid-connect/userinfo',
  end_session: '/protocol/openid-connect/logout',
  device_authorization: '/protocol/openid-connect/auth/device',
  code_verification: '/protocol/openid-connect/device',
  pushed_authorization_request: '/protocol/openid-connect/ext/par/request',
  registration: '/clients-registrations/openid-connect',
  backchannel_authentication: '/protocol/openid-connect/ext/ciba/auth',
  challenge: '/protocol/openid-connect/challenge',
  credential: '/protocol/openid-connect/credential',
} as const;

export interface ProviderSetup {
  issuer: string;
  clients: readonly ResolvedClient[];
  /** Private JWKS, signing keys first. */
  jwks: { keys: Record<string, unknown>[] };
  tokenStore: TokenStore;
  /** The IdP-wide access token lifetime, read per token so tests can change it. */
  accessTokenTtl: () => number;
  /** Audiences clients may ask for with `resource=` (besides their own). */
  audiences: readonly string[];
  clockToleranceSeconds: number;
  /** Set: DPoP proofs at the token endpoint must carry a nonce derived from this 32-byte secret. */
  dpopNonceSecret: Buffer | null;
  log: (message: string) => void;
}

/**
 * The resource indicator (RFC 8707) standing for an audience. oidc-provider names resource servers
 * by absolute URI; an audience that is not one (Keycloak-style `account`) gets a URN.
 */
export function resourceIndicatorFor(audience: string): string {
  const url = URL.parse(audience);
  return url !== null && !url.href.includes('#') && /^[a-z][a-z0-9+.-]*:/i.test(audience) ? audience : `urn:portcullis:audience:${encodeURIComponent(audience)}`;
}

function peerCertificate(ctx: KoaContextWithOIDC) {
  const socket = ctx.socket as Partial<TLSSocket>;
  return typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
}

/** Builds the provider. It only answers paths relative to the issuer: the caller strips `/realms/<realm>`. */
export function createProvider(setup: ProviderSetup): Provider {
  const byId = new Map(setup.clients.map((c) => [c.client_id, c]));
  const clientOf = (clientId: string): ResolvedClient => {
    const c = byId.get(clientId);
    if (c === undefined) throw new errors.InvalidTarget('unknown client');
    return c;
  };
  const resources = new Map<string, string>();
  for (const audience of [...setup.audiences, ...setup.clients.map((c) => c.audience)]) resources.set(resourceIndicatorFor(audience), audience);

  const configuration: Configuration = {
    clients: setup.clients.map(toProviderClient),
    jwks: setup.jwks,
    adapter: setup.tokenStore.adapterFactory,
    clockTolerance: setup.clockToleranceSeconds,
    enabledJWA: { dPoPSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256', 'Ed25519', 'EdDSA'] },
    routes: { ...keycloakRoutes },
    // Client metadata `scope` must be a subset of these; they are also what discovery lists.
    scopes: [...new Set(['openid', 'offline_access', ...setup.clients.flatMap((c) => c.scopes)])],
    clientAuthMethods: ['tls_client_auth', 'self_signed_tls_client_auth', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    ttl: {
      ClientCredentials: (_ctx, token) => {
        const server = token['resourceServer'] as { accessTokenTTL?: number } | undefined;
        return server?.accessTokenTTL ?? setup.accessTokenTtl();
      },
    },
    // Every access token carries sub = client_id; introspection shows it too (RFC 7662 `sub`).
    extraTokenClaims: (_ctx, token) => (typeof token.clientId === 'string' ? { sub: token.clientId } : undefined),
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      // RFC 9449: a proof at the token endpoint binds the token to its key (cnf.jkt, token_type DPoP).
      dPoP: {
        enabled: true,
        ...(setup.dpopNonceSecret === null ? {} : { nonceSecret: setup.dpopNonceSecret, requireNonce: () => true }),
      },
      introspection: {
        enabled: true,
        // A resource server (introspection: true) may introspect anyone's tokens; a client its own.
        allowedPolicy: (_ctx, client, token) => byId.get(client.clientId)?.introspection === true || token.clientId === client.clientId,
      },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx) => peerCertificate(ctx),
        // Node verified the chain against the trusted CAs during the handshake (requestCert without rejectUnauthorized).
        certificateAuthorized: (ctx) => (ctx.socket as Partial<TLSSocket>).authorized === true,
        certificateSubjectMatches: (ctx, property, expected) => {
          const cert = peerCertificate(ctx);
          return property === 'tls_client_auth_subject_dn' && cert !== undefined && subjectDnMatches(cert, expected);
        },
      },
      resourceIndicators: {
        enabled: true,
        // The tutorial's token request sends no `resource`: default it to the client's audience, so
        // getResourceServerInfo decides the format (JWT or opaque), lifetime and signing alg.
        defaultResource: (_ctx, client, oneOf) => oneOf ?? resourceIndicatorFor(clientOf(client.clientId).audience),
        getResourceServerInfo: (ctx, resourceIndicator, client) => {
          const c = clientOf(client.clientId);
          const audience = resources.get(resourceIndicator);
          if (audience === undefined) throw new errors.InvalidTarget(`unknown resource indicator '${resourceIndicator}'`);
          const requested = typeof ctx.oidc?.params?.['scope'] === 'string' ? ctx.oidc.params['scope'].split(' ').filter(Boolean) : [];
          const refused = requested.find((s) => !c.scopes.includes(s));
          if (refused !== undefined) throw new errors.InvalidScope('requested scope is not allowed', refused);
          return {
            scope: c.scopes.join(' '),
            audience,
            accessTokenTTL: c.access_token_ttl ?? setup.accessTokenTtl(),
            accessTokenFormat: c.access_token_format,
            jwt: { sign: { alg: c.access_token_signing_alg } },
          };
        },
      },
    },
  };

  const provider = new Provider(setup.issuer, configuration);

  // RFC 8705 §5: the mTLS endpoints are the plain ones (as Keycloak advertises them).
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'discovery' || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as Record<string, unknown>;
    const aliases: Record<string, unknown> = {};
    for (const name of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'pushed_authorization_request_endpoint']) {
      if (typeof body[name] === 'string') aliases[name] = body[name];
    }
    body['mtls_endpoint_aliases'] = aliases;
  });

  const describeFailure = (event: string) => (...args: unknown[]) => {
    const [ctx, error] = args as [KoaContextWithOIDC, Error & { error?: string; error_detail?: string; error_description?: string }];
    const cert = peerCertificate(ctx);
    const who = ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.['client_id'];
    const subject = cert === undefined ? 'no client certificate' : `certificate ${certificateSubjectString(cert)}`;
    setup.log(
      `${event}: ${error.error ?? error.name}: ${error.error_detail ?? error.error_description ?? error.message}` +
        ` (client_id ${typeof who === 'string' ? who : '-'}, ${subject})`,
    );
  };
  provider.on('grant.error', describeFailure('token request refused'));
  provider.on('introspection.error', describeFailure('introspection refused'));
  provider.on('revocation.error', describeFailure('revocation refused'));
  provider.on('server_error', describeFailure('server error'));
  return provider;
}
