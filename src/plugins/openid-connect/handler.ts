/**
 * The `openid-connect` plugin: an OAuth 2.0 resource server in the access phase. Per request:
 * find the token → principal (cached, or verified/introspected) → RFC 8705 binding → identity and
 * upstream headers. Everything that can be prepared is prepared in `create`, once per config load.
 */
import type { Logger } from 'pino';
import type { Consumer, PluginEntity } from '../../config/types.js';
import { authenticated, proceedAsAnonymous } from '../../pipeline/anonymous.js';
import { bodyFieldsFormat } from '../../pipeline/body-fields.js';
import type { RequestContext } from '../../pipeline/context.js';
import { exposeHeaders } from '../../pipeline/expose-headers.js';
import { isGatewayError } from '../../pipeline/gateway-error.js';
import type { PluginDefinition, PluginEnvironment, PluginInstance, ResponseHead } from '../../pipeline/plugin.js';
import { openIdConnectAdminApi } from './admin-api.js';
import { Authenticator, type Principal } from './authenticate.js';
import { namedConsumer } from '../../config/find-consumer.js';
import { createHeaderCertificateSource } from './certificate-from-header.js';
import { discoveryTargets } from './discovery.js';
import { DpopBinding } from './dpop-binding.js';
import { extractBodyToken, extractToken, hideCredential, type FoundToken } from './extract-token.js';
import { IdpClient } from './http-client.js';
import { HmacSecret } from './jwks.js';
import { applyClaimHeaders, ConsumerDirectory, parseTokenHeader } from './identity.js';
import { Introspector } from './introspection.js';
import { acquireIssuer, releaseIssuer, type IssuerSettings } from './issuer-registry.js';
import { checkCertificateBinding } from './proof-of-possession.js';
import { reasons, type ReasonInfo, type SuccessReason } from './reasons.js';
import { AuthFailure, refusalResponse, type ResponseSettings } from './responses.js';
import { openIdConnectSchema, type OpenIdConnectConfig } from './schema.js';
import { logThrottle } from '../../util/log-throttle.js';

/** Kong's priority for openid-connect. */
export const PRIORITY = 1050;
/** Longest token read, in characters: far beyond any real access token, short of abuse. */
export const MAX_TOKEN_LENGTH = 16_384;
/** Verified tokens remembered per plugin instance. */
export const TOKEN_CACHE_ENTRIES = 10_000;

const PLUGIN = 'openid-connect';

function pairs(names: readonly string[] | null, values: readonly string[] | null): Array<[string, string]> {
  return (names ?? []).map((n, i) => [n, values?.[i] ?? '']);
}

function issuerSettings(config: OpenIdConnectConfig, env: PluginEnvironment): IssuerSettings {
  return {
    issuer: config.issuer,
    discoveryHeaders: Object.fromEntries(pairs(config.discovery_headers_names, config.discovery_headers_values)),
    extraJwksUris: config.extra_jwks_uris ?? [],
    jwksEndpoint: config.jwks_endpoint,
    sslVerify: config.ssl_verify,
    timeoutMs: config.timeout,
    keepalive: config.keepalive,
    trustedCaPems: env.trustedCaPems,
    cacheTtlMs: config.cache_ttl * 1000,
    rediscoveryMs: config.rediscovery_lifetime * 1000,
  };
}

function introspector(config: OpenIdConnectConfig, env: PluginEnvironment): { introspector: Introspector; client: IdpClient } {
  const method = config.introspection_endpoint_auth_method ?? config.client_auth?.[0] ?? null;
  const certificate = method === 'tls_client_auth' ? env.config.certificates.find((c) => c.id === config.tls_client_auth_cert_id) : undefined;
  const client = new IdpClient({
    sslVerify: config.ssl_verify,
    timeoutMs: config.timeout,
    keepalive: config.keepalive,
    trustedCaPems: env.trustedCaPems,
    ...(certificate === undefined ? {} : { clientCertificate: { cert: certificate.cert, key: certificate.key } }),
  });
  const jwk = config.client_jwk?.[0] ?? null;
  return {
    client,
    introspector: new Introspector(
      {
        endpoint: config.introspection_endpoint,
        authMethod: method,
        clientId: config.client_id?.[0] ?? null,
        clientSecret: config.client_secret?.[0] ?? null,
        clientJwk: jwk,
        clientAlg: config.client_alg?.[0] ?? null,
        hint: config.introspection_hint,
        headers: Object.fromEntries(pairs(config.introspection_headers_names, config.introspection_headers_values)),
        postArgs: Object.fromEntries(pairs(config.introspection_post_args_names, config.introspection_post_args_values)),
        checkActive: config.introspection_check_active,
      },
      client,
    ),
  };
}

/** Builds one plugin instance. */
export function createOpenIdConnect(config: OpenIdConnectConfig, _entity: PluginEntity, env: PluginEnvironment): PluginInstance {
  const logger: Logger = env.logger;
  const issuer = acquireIssuer(issuerSettings(config, env), logger);
  issuer.warm();
  const intro = config.auth_methods.includes('introspection') ? introspector(config, env) : null;
  const consumerClaims = config.consumer_claims !== null ? config.consumer_claims.map((c) => [c]) : config.consumer_claim !== null ? [config.consumer_claim] : null;
  const authenticator = new Authenticator(
    {
      bearer: config.auth_methods.includes('bearer'),
      introspection: intro !== null,
      introspectJwtTokens: config.introspect_jwt_tokens,
      cacheIntrospection: config.cache_introspection,
      hsSecrets: config.enable_hs_signatures ? (config.client_secret ?? []).map((s) => new HmacSecret(s)) : [],
      typAllowed: config.token_typ_allowed,
      issuersAllowed: config.issuers_allowed ?? [],
      issuerId: discoveryTargets(config.issuer).issuer,
      leewaySeconds: config.leeway,
      maxAgeSeconds: config.max_age,
      cacheTtlMs: config.cache_ttl * 1000,
      claimsForbidden: config.claims_forbidden,
      requirements: {
        audience: { required: config.audience_required, claim: config.audience_claim },
        scopes: { required: config.scopes_required, claim: config.scopes_claim },
        groups: { required: config.groups_required, claim: config.groups_claim },
        roles: { required: config.roles_required, claim: config.roles_claim },
      },
      identity: {
        consumerClaims,
        consumerBy: config.consumer_by,
        usernameIgnoreCase: config.by_username_ignore_case,
        consumerOptional: config.consumer_optional,
        credentialClaim: config.credential_claim,
        groupsClaim: config.authenticated_groups_claim,
      },
      popEnabled: config.proof_of_possession_mtls !== 'off',
      dpopEnabled: config.proof_of_possession_dpop !== 'off',
      cacheEntries: TOKEN_CACHE_ENTRIES,
    },
    issuer,
    intro?.introspector ?? null,
    new ConsumerDirectory(env.config.consumers),
    logger,
  );
  const dpopMode = config.proof_of_possession_dpop;
  const dpop =
    dpopMode === 'off'
      ? null
      : new DpopBinding(
          {
            mode: dpopMode,
            lifetimeSeconds: config.dpop_proof_lifetime,
            futureSkewSeconds: config.dpop_proof_clock_skew,
            useNonce: config.dpop_use_nonce,
            algorithms: config.dpop_proof_algorithms,
          },
          env.node,
        );
  const responses: ResponseSettings = {
    realm: new URL(config.issuer).host,
    unauthorizedMessage: config.unauthorized_error_message,
    forbiddenMessage: config.forbidden_error_message,
    displayErrors: config.display_errors,
    exposeErrorCode: config.expose_error_code,
    dpop: dpop === null ? null : { mode: dpop.settings.mode, algs: dpop.settings.algorithms.join(' ') },
  };
  const extractOptions = {
    dpopScheme: dpop !== null,
    paramTypes: config.bearer_token_param_type,
    headerName: config.bearer_token_header_name?.toLowerCase() ?? null,
    cookieName: config.bearer_token_cookie_name,
    maxLength: MAX_TOKEN_LENGTH,
  };
  const anonymous: Consumer | null = namedConsumer(env.config, config.anonymous);
  // A store that is down refuses every request meanwhile: one error line per 10 s says so, not one per request.
  const outageLogDue = logThrottle(10_000);
  const tokenHeader = parseTokenHeader(config.upstream_access_token_header);
  const claimHeaders = pairs(config.upstream_headers_claims, config.upstream_headers_names).map(([c, h]) => [c, h.toLowerCase()] as const);
  const readsBody = config.bearer_token_param_type.includes('body');
  const headerCertificates =
    config.proof_of_possession_mtls !== 'off' && config.proof_of_possession_mtls_from_header !== null
      ? createHeaderCertificateSource(config.proof_of_possession_mtls_from_header, env)
      : null;

  /**
   * The token: header, query and cookie first; the body only when they hold none and it is a
   * form or JSON body, so that no other request is ever buffered.
   */
  async function findToken(ctx: RequestContext): Promise<FoundToken | null> {
    const found = extractToken(ctx.request.headers, ctx.request.query, extractOptions);
    if (found !== null || !readsBody) return found;
    const format = bodyFieldsFormat(ctx.request.headers);
    if (format === null) return null;
    return extractBodyToken(await ctx.readBody(), format, MAX_TOKEN_LENGTH);
  }

  /** The binding check, against the header's certificate with `proof_of_possession_mtls_from_header`. */
  async function checkBinding(ctx: RequestContext, principal: Principal): Promise<void> {
    const mode = config.proof_of_possession_mtls;
    if (mode === 'off') return;
    let certificate = ctx.clientCertificate;
    // Only a bound token needs a certificate: strict refuses an unbound one without looking.
    if (headerCertificates !== null && principal.bound !== null) {
      certificate = await headerCertificates.read(ctx);
      // The forwarded certificate is this request's client certificate from now on (access log, later plugins).
      if (certificate !== null) ctx.clientCertificate = certificate;
    }
    checkCertificateBinding(mode, principal.bound, certificate);
    if (principal.bound !== null) logger.debug({ request_id: ctx.id, jti: principal.claims.jti, sub: principal.claims.sub }, 'certificate binding verified');
  }

  function succeed(ctx: RequestContext, principal: Principal, found: FoundToken, proofVerified: boolean): void {
    ctx.identity = { ...principal.identity };
    const reason: SuccessReason =
      principal.method === 'bearer' ? (proofVerified ? 'jwt_verified_dpop' : 'jwt_verified') : proofVerified ? 'introspection_active_dpop' : 'introspection_active';
    ctx.auth = { plugin: PLUGIN, outcome: 'success', reason };
    const headers = ctx.upstreamHeaders;
    if (config.hide_credentials) hideCredential(ctx, found);
    if (dpop !== null) {
      // As Kong: the upstream sees a Bearer token and no proof (the binding was checked here).
      delete headers['dpop'];
      if (found.scheme === 'dpop' && headers['authorization'] !== undefined) headers['authorization'] = `Bearer ${found.token}`;
    }
    if (tokenHeader !== null) headers[tokenHeader.name] = `${tokenHeader.prefix}${found.token}`;
    if (claimHeaders.length > 0) applyClaimHeaders(headers, principal.claims, claimHeaders);
  }

  /** Headers every refusal of a DPoP instance carries: a fresh nonce (when on) and, for browsers, which headers they may read. */
  function refusalHeaders(ctx: RequestContext): Record<string, string> | undefined {
    if (dpop === null) return undefined;
    const headers: Record<string, string> = {};
    if (dpop.settings.useNonce) headers['dpop-nonce'] = dpop.freshNonce();
    if (ctx.request.headers.origin !== undefined) headers['access-control-expose-headers'] = EXPOSED_HEADERS;
    return headers;
  }

  function refuse(ctx: RequestContext, failure: AuthFailure, found: FoundToken | null): void {
    const info: ReasonInfo = reasons[failure.reason];
    const fields = { request_id: ctx.id, reason: failure.reason, detail: failure.detail };
    if (info.outage === true) {
      if (outageLogDue()) logger.error(fields, 'openid-connect could not authenticate a request (logged once per 10 s while it lasts)');
    } else if (info.refusal === 'unexpected') logger.error(fields, 'openid-connect could not authenticate a request');
    // Debug only: the access log already carries the reason, and a flood of bad tokens must not become a flood of log lines.
    else logger.debug(fields, 'openid-connect refused a request');
    if (anonymous !== null && info.outage !== true && (info.refusal === 'unauthorized' || info.refusal === 'forbidden')) {
      proceedAsAnonymous(ctx, PLUGIN, anonymous, failure.reason);
      // A refused credential never travels upstream, whatever hide_credentials says; nor its proof.
      if (found !== null) hideCredential(ctx, found);
      if (dpop !== null) delete ctx.upstreamHeaders['dpop'];
      return;
    }
    ctx.auth = { plugin: PLUGIN, outcome: 'failure', reason: failure.reason };
    throw refusalResponse(failure, responses, found?.scheme ?? null, refusalHeaders(ctx));
  }

  return {
    // A token header of its own never reaches a log record (Authorization, Kong's token headers,
    // cookies and access_token are redacted for every route).
    credentialCarriers: { headers: extractOptions.headerName === null ? [] : [extractOptions.headerName], query: [] },
    async access(ctx) {
      if (!config.run_on_preflight && ctx.request.method === 'OPTIONS') return;
      // Kong's "logical OR": with `anonymous` set, a request another plugin already identified passes.
      if (anonymous !== null && authenticated(ctx)) return;
      let found: FoundToken | null = null;
      try {
        found = await findToken(ctx);
        if (found === null) throw new AuthFailure('no_token');
        const principal = await authenticator.authenticate(found.token, ctx.id);
        await checkBinding(ctx, principal);
        const proofVerified = dpop === null ? false : await dpop.check(ctx, principal, found);
        succeed(ctx, principal, found, proofVerified);
      } catch (error) {
        if (error instanceof AuthFailure) return refuse(ctx, error, found);
        if (isGatewayError(error)) throw error;
        ctx.auth = { plugin: PLUGIN, outcome: 'failure', reason: 'internal_error' };
        throw error;
      }
    },
    ...(dpop === null ? {} : { headerFilter: exposeDpopHeaders }),
    async close() {
      authenticator.clear();
      await Promise.allSettled([releaseIssuer(issuer), intro?.client.close(), headerCertificates?.close()]);
    },
  };
}

/** `Access-Control-Expose-Headers` for a DPoP route's answers to browsers (RFC 9449 §7.1, §8). */
const EXPOSED_HEADER_NAMES = ['WWW-Authenticate', 'DPoP-Nonce'];
const EXPOSED_HEADERS = EXPOSED_HEADER_NAMES.join(', ');

/** On a successful response to a cross-origin request: the DPoP headers join whatever the upstream exposes. */
function exposeDpopHeaders(ctx: RequestContext, response: ResponseHead): void {
  if (ctx.request.headers.origin !== undefined) exposeHeaders(response.headers, EXPOSED_HEADER_NAMES);
}

export const openIdConnect: PluginDefinition<OpenIdConnectConfig> = {
  schema: openIdConnectSchema,
  priority: PRIORITY,
  create: createOpenIdConnect,
  adminApi: openIdConnectAdminApi,
};
