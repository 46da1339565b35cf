import { unknownConsumer } from '../../config/find-consumer.js';
import { Type, type Static } from '@sinclair/typebox';
import type { Config, ConfigError, PluginEntity } from '../../config/types.js';

/**
 * The fields mtls-auth and header-cert-auth share, with Kong's defaults: which CAs to trust and
 * how a verified certificate becomes a consumer. header-cert-auth adds its header fields.
 */
export const certificateAuthFields = {
  ca_certificates: Type.Array(Type.String({ minLength: 1 }), {
    minItems: 1,
    description: 'Ids of `ca_certificates` entities a client certificate must chain to. Required.',
  }),
  allow_partial_chain: Type.Boolean({
    default: false,
    description: 'Accept a chain that ends at a configured intermediate CA instead of a self-signed root.',
  }),
  skip_consumer_lookup: Type.Boolean({
    default: false,
    description: 'Do not map the certificate to a consumer; send X-Client-Cert-DN and X-Client-Cert-SAN upstream instead.',
  }),
  consumer_by: Type.Array(Type.Union([Type.Literal('username'), Type.Literal('custom_id')]), {
    default: ['username', 'custom_id'],
    description: 'Consumer fields matched against the certificate’s SANs, then its CN. [] disables matching.',
  }),
  authenticated_group_by: Type.Union([Type.Literal('CN'), Type.Literal('DN')], {
    default: 'CN',
    description: 'With skip_consumer_lookup, the certificate property sent as X-Authenticated-Groups.',
  }),
  anonymous: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
    default: null,
    description: 'Consumer (id or username) to proxy as when authentication fails, instead of a 401.',
  }),
  default_consumer: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
    default: null,
    description: 'Consumer (id or username) for a trusted certificate that matches no consumer.',
  }),
  revocation_check_mode: Type.Union([Type.Literal('IGNORE_CA_ERROR'), Type.Literal('SKIP'), Type.Literal('STRICT')], {
    default: 'IGNORE_CA_ERROR',
    description: 'OCSP, then CRL. SKIP: no revocation check. IGNORE_CA_ERROR: pass when the status cannot be had. STRICT: fail then. A revoked certificate always fails.',
  }),
  cert_cache_ttl: Type.Number({ minimum: 0, default: 60000, description: 'How long (ms) a verification result and a revocation answer are reused (never past its nextUpdate). 0: not at all.' }),
  cache_ttl: Type.Number({ minimum: 0, default: 60, description: 'Kong’s consumer cache expiry (s); consumers are compiled per configuration here.' }),
  http_timeout: Type.Number({ minimum: 0, default: 30000, description: 'Timeout (ms) for each OCSP or CRL exchange, connect to last byte. 0: none.' }),
  ssl_verify: Type.Boolean({ default: true, description: 'Verify the TLS certificates of OCSP responders and CRL servers.' }),
};

export const certificateAuthConfig = Type.Object(certificateAuthFields);
export type CertificateAuthConfig = Static<typeof certificateAuthConfig>;

/** Cross-entity checks: the CAs and consumers a plugin names must exist. */
export function checkCertificateAuthReferences(plugin: PluginEntity, config: Config): ConfigError[] {
  const c = plugin.config as CertificateAuthConfig;
  const errors: ConfigError[] = [];
  const caIds = new Set(config.ca_certificates.map((ca) => ca.id));
  c.ca_certificates.forEach((id, i) => {
    if (!caIds.has(id.toLowerCase())) errors.push({ path: `config.ca_certificates[${i}]`, message: `no ca_certificates entity with id '${id}'` });
  });
  for (const field of ['anonymous', 'default_consumer'] as const) {
    const problem = unknownConsumer(config, c[field]);
    if (problem !== null) errors.push({ path: `config.${field}`, message: problem });
  }
  return errors;
}

