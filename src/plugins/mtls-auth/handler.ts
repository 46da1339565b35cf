import type { PluginDefinition } from '../../pipeline/plugin.js';
import { createCertificateAuthenticator } from './certificate-authenticator.js';
import { mtlsAuthSchema, type MtlsAuthConfig } from './schema.js';

/**
 * Kong's mtls-auth: the handshake asks for a certificate (`requestsClientCertificate`, per SNI as
 * the Runtime compiles it), and the access phase verifies the request's certificate against this
 * instance's CAs and maps it to a consumer.
 */
export const mtlsAuth: PluginDefinition<MtlsAuthConfig> = {
  schema: mtlsAuthSchema,
  priority: 1600,
  requestsClientCertificate: true,
  create(config, _entity, env) {
    const authenticator = createCertificateAuthenticator('mtls-auth', config, env);
    return {
      async access(ctx) {
        // The connection's certificate, unless a trusted proxy's header replaced it earlier.
        await authenticator.authenticate(ctx, ctx.clientCertificate);
      },
      close: () => authenticator.close(),
    };
  },
};
