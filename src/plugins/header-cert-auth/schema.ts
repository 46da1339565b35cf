import { Type, type Static } from '@sinclair/typebox';
import type { PluginSchema } from '../../pipeline/plugin.js';
import { certificateAuthFields, checkCertificateAuthReferences } from '../mtls-auth/certificate-auth-fields.js';

/** Kong's header-cert-auth: authenticate with a client certificate forwarded by a TLS-terminating proxy. */
export const headerCertAuthConfig = Type.Object(
  {
    certificate_header_name: Type.String({
      minLength: 1,
      pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
      description: 'Header in which the proxy sends the client certificate. Required.',
    }),
    certificate_header_format: Type.Union(
      [Type.Literal('base64_encoded'), Type.Literal('url_encoded'), Type.Literal('rfc9440'), Type.Literal('xfcc')],
      { description: 'base64_encoded | url_encoded (Kong); rfc9440 (Client-Cert) | xfcc (Envoy) are Portcullis additions. Required.' },
    ),
    secure_source: Type.Boolean({
      default: true,
      description: 'Believe the header only from --trusted-ips (it is removed from anyone else). false: from anyone.',
    }),
    ...certificateAuthFields,
  },
  { additionalProperties: false },
);

export type HeaderCertAuthConfig = Static<typeof headerCertAuthConfig>;

export const headerCertAuthSchema: PluginSchema = {
  name: 'header-cert-auth',
  configSchema: headerCertAuthConfig,
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, _index, config) {
    return checkCertificateAuthReferences(plugin, config);
  },
};
