/** How a client authenticates at the token and introspection endpoints (RFC 7591 / RFC 8705 names). */
export type IdpClientAuthMethod =
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
  | 'client_secret_basic'
  | 'client_secret_post';

/** JWS algorithms the IdP can sign access tokens with. */
export type IdpSigningAlg = 'RS256' | 'ES256';

/**
 * One client of the development IdP. Keys are snake_case as in client registration metadata
 * (RFC 7591, RFC 8705) and in the clients YAML file.
 */
export interface IdpClientConfig {
  client_id: string;
  token_endpoint_auth_method: IdpClientAuthMethod;
  /** RFC 4514 subject DN the certificate must carry (`tls_client_auth`); compared RDN by RDN (values case-insensitively, spaces after commas optional). */
  tls_client_auth_subject_dn?: string;
  /** PEM of the client's own certificate (`self_signed_tls_client_auth`); registered as `jwks` with `x5c`. */
  certificate_pem?: string;
  /** For `client_secret_basic` / `client_secret_post`. */
  client_secret?: string;
  /** RFC 8705 §3: bind access tokens to the certificate of the token request (`cnf.x5t#S256`). Default: true for the TLS methods, false otherwise. */
  tls_client_certificate_bound_access_tokens?: boolean;
  /** `jwt` (RFC 9068, default) or `opaque` (validated by introspection). */
  access_token_format?: 'jwt' | 'opaque';
  /** `aud` of its access tokens; default: the IdP's `audience`. */
  audience?: string;
  /** Scopes the client may request with `scope=`; default: the IdP's `scopes`. */
  scopes?: string[];
  /** Access token lifetime in seconds; default: the IdP's `accessTokenTtlSeconds`. */
  access_token_ttl?: number;
  /** JWS algorithm of its JWT access tokens; default RS256 (Keycloak's default). */
  access_token_signing_alg?: IdpSigningAlg;
  /** May call the introspection endpoint for any client's tokens (a resource server such as the gateway). */
  introspection?: boolean;
  /**
   * RFC 9449 client metadata: a DPoP proof is required at the token endpoint, and every access
   * token is bound to its key (`cnf.jkt`, `token_type: DPoP`). Default false: a client that sends a
   * proof anyway still gets a bound token.
   */
  dpop_bound_access_tokens?: boolean;
  /** Grant types; default `['client_credentials']`, `[]` for an introspection-only client. */
  grant_types?: string[];
}

/** TLS material of the IdP's HTTPS listener. */
export interface IdpTlsOptions {
  /** Server certificate, optionally followed by its intermediates. */
  certPem: string;
  keyPem: string;
  /** CAs whose client certificates count as verified for `tls_client_auth`; also sent in the CertificateRequest. */
  caPems: string[];
}

export interface StartIdpOptions {
  /** Directory for the signing keys (`signing-keys.json`); created when missing. */
  dir: string;
  /** Address to listen on. Default `localhost`. */
  host?: string;
  /** Default 9443; 0 picks a free port. */
  port?: number;
  /** Keycloak realm name in every path. Default `master`. */
  realm?: string;
  /** Host (and optional `:port`) written in the issuer; default: `host`, or `localhost` when `host` is a wildcard address. */
  publicHost?: string;
  tls: IdpTlsOptions;
  /** Default: `defaultIdpClients()` (the tutorial's `kong` and its siblings). */
  clients?: IdpClientConfig[];
  /** Default access token lifetime, seconds. Default 60, as Keycloak's master realm. */
  accessTokenTtlSeconds?: number;
  /** Default `aud` of access tokens. Default `urn:portcullis:api`. */
  audience?: string;
  /** Default allowed scopes of clients without their own list. Default `['read', 'write']`. */
  scopes?: string[];
  /** How long a rotated-out signing key stays in the JWKS, seconds. Default 86400. */
  keyGraceSeconds?: number;
  /** Reload the signing keys when `signing-keys.json` changes on disk (`portcullis idp rotate-keys`). Default true. */
  watchKeys?: boolean;
  /** Require an IdP nonce in DPoP proofs at the token endpoint (RFC 9449 §8). Default false. */
  dpopNonces?: boolean;
  /** Seconds of clock skew accepted on incoming JWTs (client assertions, DPoP proofs). Default 5. */
  clockToleranceSeconds?: number;
  /** Where the IdP reports events (start, rotation, failures). Default: nothing. */
  log?: (message: string) => void;
}

/** A running development IdP. */
export interface IdpServer {
  /** `https://HOST:PORT/realms/REALM` */
  readonly issuer: string;
  /** `https://HOST:PORT`: the listener's base URL. */
  readonly url: string;
  readonly port: number;
  readonly realm: string;
  /** The endpoints, as advertised in discovery. */
  readonly endpoints: IdpEndpoints;
  /** The clients in effect (after defaults). */
  readonly clients: readonly IdpClientConfig[];
  /** Makes new signing keys, keeps the previous ones published for the grace period, and starts signing with the new ones. */
  rotateKeys(): Promise<void>;
  /** Re-reads `signing-keys.json` (e.g. after `portcullis idp rotate-keys` in another process). */
  reloadKeys(): Promise<void>;
  /** The public JWKS currently published. */
  publicJwks(): { keys: Record<string, unknown>[] };
  /** Changes the default access token lifetime of tokens issued from now on (clients with their own `access_token_ttl` keep it). */
  setAccessTokenTtl(seconds: number): void;
  /**
   * Signs arbitrary claims with the IdP's current key for `alg` (default RS256), header `typ: at+jwt`
   * and its `kid` unless `header` overrides them. For negative tests of resource servers only.
   */
  signJwt(payload: Record<string, unknown>, options?: { alg?: IdpSigningAlg; header?: Record<string, unknown> }): Promise<string>;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

export interface IdpEndpoints {
  discovery: string;
  token: string;
  jwks: string;
  introspection: string;
  revocation: string;
}
