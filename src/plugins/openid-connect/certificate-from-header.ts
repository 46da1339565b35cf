
/**
 * `proof_of_possession_mtls_from_header`: the client certificate for the RFC 8705 binding check,
 * taken from a header set by a TLS-terminating proxy (Kong 3.15), for gateways behind a load
 * balancer that ends the client's TLS. The header is parsed by header-cert-auth's parser and the
 * certificate verified against `ca_certificates` by the authenticator mtls-auth and
 * header-cert-auth share (chain, validity, EKU, revocation mode, `cert_cache_ttl`): one
 * implementation of "is this certificate trusted" for the whole gateway.
 *
 * Whether the header may be believed is decided before any plugin runs: with `secure_source`
 * (the default) the server removes it from peers outside `--trusted-ips`
 * (src/runtime/certificate-headers.ts), so here it is simply absent.
 */
import { Value } from '@sinclair/typebox/value';
import type { RequestContext } from '../../pipeline/context.js';
import { isGatewayError } from '../../pipeline/gateway-error.js';
import type { PluginEnvironment } from '../../pipeline/plugin.js';
import { createClientCertificate, type ClientCertificate } from '../../connection/client-certificate.js';
import { CertificateHeaderError, parseCertificateHeader } from '../header-cert-auth/certificate-header.js';
import { certificateAuthConfig, type CertificateAuthConfig } from '../mtls-auth/certificate-auth-fields.js';
import { createCertificateAuthenticator, type CertificateAuthenticator } from '../mtls-auth/certificate-authenticator.js';
import { ownHeader } from '../../util/own-header.js';
import { AuthFailure } from './responses.js';
import type { OpenIdConnectConfig } from './schema.js';

export type FromHeaderConfig = NonNullable<OpenIdConnectConfig['proof_of_possession_mtls_from_header']>;

/** Reads and verifies the forwarded certificate of one request. Built once per plugin instance. */
export interface HeaderCertificateSource {
  /**
   * The verified certificate from the header; null when the header is absent (or was removed
   * because the peer is not trusted). Throws AuthFailure `pop_certificate_invalid` (unreadable
   * header) or `pop_certificate_untrusted` (verification failed).
   */
  read(ctx: RequestContext): Promise<ClientCertificate | null>;
  /** Releases the verifier's connections (OCSP responders, CRL servers). */
  close(): Promise<void>;
}

export function createHeaderCertificateSource(config: FromHeaderConfig, env: PluginEnvironment): HeaderCertificateSource {
  const headerName = config.certificate_header_name.toLowerCase();
  const authenticator = createCertificateAuthenticator('openid-connect', authenticatorConfig(config), env);
  return {
    async read(ctx) {
      const value = ownHeader(ctx.request.headers, headerName);
      if (value === undefined) return null;
      let certificate: ClientCertificate;
      try {
        const parsed = parseCertificateHeader(value, config.certificate_header_format);
        certificate = createClientCertificate(parsed.leaf, parsed.chain, 'header');
      } catch (error) {
        if (!(error instanceof CertificateHeaderError)) throw error;
        throw new AuthFailure('pop_certificate_invalid', `${headerName}: ${error.code}: ${error.message}`);
      }
      await verify(authenticator, ctx, certificate);
      return certificate;
    },
    close: () => authenticator.close(),
  };
}

/**
 * The shared authenticator's config for verification only: the header's trust fields, no consumer
 * lookup and no `anonymous` of its own (openid-connect's `anonymous` decides). Built from the
 * shared schema's defaults so fields that schema gains later keep their defaults here, and
 * checked, so a field without a default fails the config load rather than a request.
 */
function authenticatorConfig(config: FromHeaderConfig): CertificateAuthConfig {
  const value: unknown = Value.Default(certificateAuthConfig, {
    ca_certificates: [...config.ca_certificates],
    allow_partial_chain: config.allow_partial_chain,
    revocation_check_mode: config.revocation_check_mode,
    cert_cache_ttl: config.cert_cache_ttl,
    http_timeout: config.http_timeout,
    ssl_verify: config.ssl_verify,
    skip_consumer_lookup: true,
    consumer_by: [],
    anonymous: null,
    default_consumer: null,
  });
  if (!Value.Check(certificateAuthConfig, value)) {
    const first = [...Value.Errors(certificateAuthConfig, value)][0];
    throw new Error(`openid-connect: proof_of_possession_mtls_from_header cannot configure certificate verification: ${first?.path ?? ''} ${first?.message ?? ''}`.trim());
  }
  return value;
}

/**
 * The authenticator reports through a request context (identity, auth outcome, X-Client-Cert-*
 * headers). It gets a context of its own, layered over the request's, so that verifying a
 * certificate for a binding check changes nothing the request carries; only its verdict counts.
 */
async function verify(authenticator: CertificateAuthenticator, ctx: RequestContext, certificate: ClientCertificate): Promise<void> {
  const probe = Object.create(ctx, {
    identity: { value: null, writable: true },
    auth: { value: null, writable: true },
    upstreamHeaders: { value: {} },
    responseHeaders: { value: {} },
    shared: { value: new Map() },
  }) as RequestContext;
  try {
    await authenticator.authenticate(probe, certificate);
  } catch (error) {
    if (isGatewayError(error) && error.status === 401) {
      throw new AuthFailure('pop_certificate_untrusted', `${error.code}${error.description === undefined ? '' : `: ${error.description}`}`);
    }
    throw error;
  }
}
