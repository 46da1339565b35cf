// The part of oidc-provider (v9, plain JavaScript without published types) that src/idp uses.
// Kept deliberately narrow: every name here is read in lib/ of the installed version.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { X509Certificate } from 'node:crypto';
  import type { Socket } from 'node:net';

  export type UnknownObject = Record<string, unknown>;

  /** The Koa context oidc-provider hands to configuration helpers and middleware. */
  export interface KoaContextWithOIDC {
    req: IncomingMessage;
    res: ServerResponse;
    socket: Socket;
    path: string;
    method: string;
    status: number;
    body: unknown;
    oidc?: {
      route?: string;
      params?: Record<string, unknown>;
      client?: { clientId: string } | undefined;
      issuer: string;
    };
  }

  export type Middleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

  /** Minimal view of a client model passed to resource-indicator helpers. */
  export interface ClientModel {
    clientId: string;
    [key: string]: unknown;
  }

  /** Minimal view of a token model passed to policies. */
  export interface TokenModel {
    clientId?: string;
    kind: string;
    [key: string]: unknown;
  }

  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg?: string; kid?: string } };
  }

  export interface AdapterPayload {
    [key: string]: unknown;
    uid?: string;
    userCode?: string;
    grantId?: string;
    consumed?: number;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Configuration {
    clients?: UnknownObject[];
    jwks?: { keys: UnknownObject[] };
    adapter?: (model: string) => Adapter;
    clientAuthMethods?: string[];
    clientDefaults?: UnknownObject;
    routes?: Record<string, string>;
    scopes?: string[];
    claims?: Record<string, string[] | null>;
    discovery?: UnknownObject;
    clockTolerance?: number;
    enabledJWA?: { dPoPSigningAlgValues?: string[] };
    cookies?: { keys?: string[] };
    ttl?: Record<string, number | ((ctx: KoaContextWithOIDC, token: TokenModel, client: ClientModel) => number)>;
    extraTokenClaims?: (ctx: KoaContextWithOIDC, token: TokenModel) => Promise<UnknownObject | undefined> | UnknownObject | undefined;
    renderError?: (ctx: KoaContextWithOIDC, out: UnknownObject, error: Error) => Promise<void> | void;
    features?: {
      devInteractions?: { enabled: boolean };
      clientCredentials?: { enabled: boolean };
      introspection?: {
        enabled: boolean;
        allowedPolicy?: (ctx: KoaContextWithOIDC, client: ClientModel, token: TokenModel) => Promise<boolean> | boolean;
      };
      revocation?: { enabled: boolean };
      userinfo?: { enabled: boolean };
      registration?: { enabled: boolean };
      dPoP?: { enabled: boolean; nonceSecret?: Buffer; requireNonce?: (ctx: KoaContextWithOIDC) => boolean };
      mTLS?: {
        enabled: boolean;
        certificateBoundAccessTokens?: boolean;
        tlsClientAuth?: boolean;
        selfSignedTlsClientAuth?: boolean;
        getCertificate?: (ctx: KoaContextWithOIDC) => X509Certificate | string | undefined;
        certificateAuthorized?: (ctx: KoaContextWithOIDC) => boolean;
        certificateSubjectMatches?: (ctx: KoaContextWithOIDC, property: string, expected: string) => boolean;
      };
      resourceIndicators?: {
        enabled: boolean;
        defaultResource?: (ctx: KoaContextWithOIDC, client: ClientModel, oneOf?: string[]) => Promise<string | string[] | undefined> | string | string[] | undefined;
        getResourceServerInfo?: (ctx: KoaContextWithOIDC, resourceIndicator: string, client: ClientModel) => Promise<ResourceServerInfo> | ResourceServerInfo;
        useGrantedResource?: (ctx: KoaContextWithOIDC, model: unknown) => Promise<boolean> | boolean;
      };
    };
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    /** The client model; `find` builds (and validates) a static client on first use. */
    readonly Client: { find(clientId: string): Promise<ClientModel | undefined> };
    /** Koa's request listener. */
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    use(middleware: Middleware): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  class OIDCProviderError extends Error {
    constructor(status: number, message: string);
    error: string;
    error_description?: string;
    status: number;
    statusCode: number;
  }

  export const errors: {
    OIDCProviderError: typeof OIDCProviderError;
    InvalidScope: new (description: string, scope: string) => OIDCProviderError;
    InvalidTarget: new (description?: string) => OIDCProviderError;
    InvalidClientAuth: new (description: string) => OIDCProviderError;
  };

  export default Provider;
}
