/**
 * From a token to a verified principal, in Kong's order: a JWT is verified statelessly (`bearer`),
 * falling back to introspection when that fails and `introspection` is enabled; an opaque token is
 * introspected. Successful results are cached by token hash until the earliest of `exp`,
 * `cache_ttl` and `auth_time + max_age`; the certificate binding is not part of this (it belongs to
 * the request, and is checked on every one).
 */
import type { Logger } from 'pino';
import type { Identity } from '../../pipeline/context.js';
import { checkForbiddenClaims, checkIssuer, checkRequirements, checkTimeClaims, type Requirements } from './claims.js';
import type { IssuerMetadata } from './discovery.js';
import { resolveIdentity, type ConsumerDirectory, type IdentityRules } from './identity.js';
import type { Introspector } from './introspection.js';
import type { HmacSecret } from './jwks.js';
import { IssuerUnavailableError, type Issuer } from './issuer-registry.js';
import { boundKeyThumbprint, boundThumbprint } from './proof-of-possession.js';
import { reasons } from './reasons.js';
import { AuthFailure } from './responses.js';
import { TokenCache, tokenHash } from './token-cache.js';
import { looksLikeJwt, parseJwtHeader, verifyJwtSignature, type Claims } from './verify-jwt.js';

/** A token that passed every token-level check. Shared by the requests that present the same token. */
export interface Principal {
  readonly method: 'bearer' | 'introspection';
  readonly claims: Claims;
  /** `cnf["x5t#S256"]`, or null when the token is not certificate-bound (only read with PoP on). */
  readonly bound: string | null;
  /** `cnf.jkt`, or null when the token is not bound to a DPoP key (only read with DPoP on). */
  readonly jkt: string | null;
  readonly identity: Readonly<Identity>;
}

export interface AuthenticatorSettings {
  readonly bearer: boolean;
  readonly introspection: boolean;
  readonly introspectJwtTokens: boolean;
  readonly cacheIntrospection: boolean;
  readonly hsSecrets: readonly HmacSecret[];
  readonly typAllowed: readonly string[];
  readonly issuersAllowed: readonly string[];
  /** The issuer identifier derived from the configuration, used until discovery names it. */
  readonly issuerId: string;
  readonly leewaySeconds: number;
  readonly maxAgeSeconds: number | null;
  readonly cacheTtlMs: number;
  readonly claimsForbidden: readonly string[] | null;
  readonly requirements: Requirements;
  readonly identity: IdentityRules;
  readonly popEnabled: boolean;
  readonly dpopEnabled: boolean;
  readonly cacheEntries: number;
}

export class Authenticator {
  readonly #s: AuthenticatorSettings;
  readonly #issuer: Issuer;
  readonly #introspector: Introspector | null;
  readonly #consumers: ConsumerDirectory;
  readonly #logger: Logger;
  readonly #cache: TokenCache<Principal>;

  constructor(settings: AuthenticatorSettings, issuer: Issuer, introspector: Introspector | null, consumers: ConsumerDirectory, logger: Logger) {
    this.#s = settings;
    this.#issuer = issuer;
    this.#introspector = introspector;
    this.#consumers = consumers;
    this.#logger = logger;
    this.#cache = new TokenCache(settings.cacheEntries);
  }

  /** The principal for a token, from the cache or verified now. Throws AuthFailure. */
  async authenticate(token: string, requestId: string): Promise<Principal> {
    const key = tokenHash(token);
    const now = Date.now();
    const generation = this.#issuer.generation;
    const cached = this.#cache.get(key, now, generation);
    if (cached !== undefined) return cached;

    const jwt = looksLikeJwt(token);
    let principal: Principal;
    let expiresAt: number;
    if (jwt && this.#s.bearer) {
      let claims: Claims;
      try {
        claims = await this.#verifyJwt(token);
        if (this.#s.introspection && this.#s.introspectJwtTokens) await this.#introspect(token);
      } catch (error) {
        if (!(error instanceof AuthFailure) || !this.#s.introspection || reasons[error.reason].refusal !== 'unauthorized' || this.#s.introspectJwtTokens) throw error;
        claims = await this.#fallBackToIntrospection(token, error, requestId);
        principal = this.#principal('introspection', claims);
        expiresAt = this.#expiry(claims, now);
        if (this.#s.cacheIntrospection) this.#cache.set(key, principal, expiresAt, now, generation);
        return principal;
      }
      principal = this.#principal('bearer', claims);
      expiresAt = this.#expiry(claims, now);
      if (!this.#s.introspectJwtTokens || this.#s.cacheIntrospection) this.#cache.set(key, principal, expiresAt, now, generation);
      return principal;
    }
    if (!this.#s.introspection) {
      // A JWE (five segments) is an encrypted JWT, not an opaque token: token_malformed, as documented.
      if (!jwt && token.split('.').length === 5) throw new AuthFailure('token_malformed', 'encrypted tokens (JWE) are not accepted');
      throw new AuthFailure(jwt ? 'token_malformed' : 'token_not_jwt');
    }
    const claims = await this.#introspect(token);
    principal = this.#principal('introspection', claims);
    if (this.#s.cacheIntrospection) this.#cache.set(key, principal, this.#expiry(claims, now), now, generation);
    return principal;
  }

  async #verifyJwt(token: string): Promise<Claims> {
    const header = parseJwtHeader(token, { hsAllowed: this.#s.hsSecrets.length > 0, typAllowed: this.#s.typAllowed });
    const metadata = await this.#metadata(true);
    const keys = header.alg.startsWith('HS') ? [] : await this.#issuer.keysFor(header.kid, header.alg);
    const claims = verifyJwtSignature(token, header, keys, this.#s.hsSecrets);
    checkTimeClaims(claims, { leewaySeconds: this.#s.leewaySeconds, maxAgeSeconds: this.#s.maxAgeSeconds, requireExp: true }, Date.now() / 1000);
    checkIssuer(claims, [metadata?.issuer ?? this.#s.issuerId, ...this.#s.issuersAllowed], true);
    return claims;
  }

  async #introspect(token: string): Promise<Claims> {
    if (this.#introspector === null) throw new AuthFailure('introspection_unavailable', 'introspection is not configured');
    const metadata = (await this.#metadata(false)) ?? { issuer: this.#s.issuerId };
    const claims = await this.#introspector.introspect(token, metadata);
    checkTimeClaims(claims, { leewaySeconds: this.#s.leewaySeconds, maxAgeSeconds: this.#s.maxAgeSeconds, requireExp: false }, Date.now() / 1000);
    checkIssuer(claims, [metadata.issuer, ...this.#s.issuersAllowed], false);
    return claims;
  }

  /** Kong: a JWT that fails verification is tried with introspection; if that fails too, the JWT's reason stands. */
  async #fallBackToIntrospection(token: string, jwtFailure: AuthFailure, requestId: string): Promise<Claims> {
    try {
      return await this.#introspect(token);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      this.#logger.debug({ request_id: requestId, jwt_reason: jwtFailure.reason, introspection_reason: error.reason }, 'JWT verification and introspection fallback both failed');
      throw jwtFailure;
    }
  }

  /**
   * The issuer's metadata. For JWT verification the keys are required (a 500 when the IdP was
   * never reached); introspection can do without discovery when its endpoint is configured.
   */
  async #metadata(required: boolean): Promise<IssuerMetadata | null> {
    try {
      return (await this.#issuer.snapshot()).metadata;
    } catch (error) {
      if (!(error instanceof IssuerUnavailableError)) throw error;
      if (required) throw new AuthFailure('issuer_unavailable', error.message, { cause: error });
      return null;
    }
  }

  #principal(method: Principal['method'], claims: Claims): Principal {
    checkForbiddenClaims(claims, this.#s.claimsForbidden);
    checkRequirements(claims, this.#s.requirements);
    const bound = this.#s.popEnabled ? boundThumbprint(claims) : null;
    const jkt = this.#s.dpopEnabled ? boundKeyThumbprint(claims) : null;
    const identity = resolveIdentity(claims, this.#s.identity, this.#consumers);
    return { method, claims, bound, jkt, identity };
  }

  #expiry(claims: Claims, now: number): number {
    let expiresAt = now + this.#s.cacheTtlMs;
    if (typeof claims.exp === 'number') expiresAt = Math.min(expiresAt, claims.exp * 1000);
    if (this.#s.maxAgeSeconds !== null && typeof claims.auth_time === 'number') {
      expiresAt = Math.min(expiresAt, (claims.auth_time + this.#s.maxAgeSeconds) * 1000);
    }
    return expiresAt;
  }

  /** Drops cached results (e.g. when the plugin instance is retired). */
  clear(): void {
    this.#cache.clear();
  }
}
