import type { RequestContext } from '../../pipeline/context.js';
import { GatewayError } from '../../pipeline/gateway-error.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { createClientCertificate, type ClientCertificate } from '../../connection/client-certificate.js';
import { ownHeader } from '../../util/own-header.js';
import { createCertificateAuthenticator } from '../mtls-auth/certificate-authenticator.js';
import { CertificateHeaderError, parseCertificateChainHeader, parseCertificateHeader } from './certificate-header.js';
import { headerCertAuthSchema, type HeaderCertAuthConfig } from './schema.js';

/**
 * Kong's header-cert-auth. Two steps, because Kong runs it at priority 1009, after openid-connect
 * (1050), yet the certificate-bound token check must see the forwarded certificate:
 * - rewrite (every plugin's rewrite runs before any access): read the header and make it the
 *   request's client certificate (`ctx.clientCertificate`, source 'header') for every later plugin;
 * - access: verify it against this instance's CAs and map it to a consumer, as mtls-auth.
 * From peers outside --trusted-ips the header never gets here: the server removes it first
 * (unless `secure_source` is false).
 */
export const headerCertAuth: PluginDefinition<HeaderCertAuthConfig> = {
  schema: headerCertAuthSchema,
  priority: 1009,
  create(config, _entity, env) {
    const authenticator = createCertificateAuthenticator('header-cert-auth', config, env);
    const headerName = config.certificate_header_name.toLowerCase();
    // The certificate this instance read, per request (the context object dies with the request).
    const fromHeader = new WeakMap<RequestContext, ClientCertificate>();
    return {
      rewrite(ctx) {
        const value = ownHeader(ctx.request.headers, headerName);
        if (value === undefined) return;
        const certificate = readHeader(value, ctx);
        fromHeader.set(ctx, certificate);
        ctx.clientCertificate = certificate;
      },
      async access(ctx) {
        // Kong: without the header this plugin refuses, whatever the TLS connection presented.
        await authenticator.authenticate(ctx, fromHeader.get(ctx) ?? null);
      },
      close: () => authenticator.close(),
    };

    function readHeader(value: string | string[], ctx: RequestContext): ClientCertificate {
      try {
        const parsed = parseCertificateHeader(value, config.certificate_header_format);
        let chain = parsed.chain;
        const chainHeader = ctx.request.headers['client-cert-chain'];
        if (config.certificate_header_format === 'rfc9440' && typeof chainHeader === 'string') chain = parseCertificateChainHeader(chainHeader);
        return createClientCertificate(parsed.leaf, chain, 'header');
      } catch (error) {
        const code = error instanceof CertificateHeaderError ? error.code : 'ERR_CERT_HEADER_MALFORMED';
        ctx.auth = { plugin: 'header-cert-auth', outcome: 'failure', reason: 'certificate_header_malformed' };
        throw new GatewayError({
          status: 400,
          code: 'certificate_header_malformed',
          message: 'Malformed client certificate header',
          description: `${code}: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
  },
};
