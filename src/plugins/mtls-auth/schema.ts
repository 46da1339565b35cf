import { Type, type Static } from '@sinclair/typebox';
import type { PluginSchema } from '../../pipeline/plugin.js';
import { certificateAuthFields, checkCertificateAuthReferences } from './certificate-auth-fields.js';

/** Kong's mtls-auth: authenticate with the client certificate of the TLS connection. */
export const mtlsAuthConfig = Type.Object(
  {
    ...certificateAuthFields,
    send_ca_dn: Type.Boolean({
      default: false,
      description: 'Name the configured CAs in the TLS CertificateRequest, for handshakes the plugin’s routes are reached by (their SNIs, or every handshake).',
    }),
  },
  { additionalProperties: false },
);

export type MtlsAuthConfig = Static<typeof mtlsAuthConfig>;

export const mtlsAuthSchema: PluginSchema = {
  name: 'mtls-auth',
  configSchema: mtlsAuthConfig,
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, _index, config) {
    return checkCertificateAuthReferences(plugin, config);
  },
};
