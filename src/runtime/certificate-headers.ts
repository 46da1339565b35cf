import type { Config } from '../config/types.js';

/**
 * Headers through which a TLS-terminating proxy passes the client's certificate: RFC 9440 and
 * Envoy's XFCC always, plus each `header-cert-auth` instance's `certificate_header_name` and each
 * `openid-connect` instance's `proof_of_possession_mtls_from_header.certificate_header_name`. They
 * are believed only from `--trusted-ips`; from anyone else they are removed before routing, so no
 * plugin can read a certificate the client merely claims, and nothing forwards it upstream.
 */
const standardNames = ['client-cert', 'client-cert-chain', 'x-forwarded-client-cert'] as const;

/**
 * The lower-case header names to strip from untrusted peers. A name configured only on instances
 * with `secure_source: false` is left alone: that is the operator saying every peer may send it.
 */
export function compileCertificateHeaders(config: Config): ReadonlySet<string> {
  const secured = new Set<string>(standardNames);
  const open = new Set<string>();
  for (const plugin of config.plugins) {
    if (!plugin.enabled) continue;
    const source = headerSource(plugin.name, plugin.config);
    if (source === null) continue;
    const name = source['certificate_header_name'];
    if (typeof name !== 'string') continue;
    (source['secure_source'] === false ? open : secured).add(name.toLowerCase());
  }
  for (const name of open) if (!standardNames.includes(name as (typeof standardNames)[number])) secured.delete(name);
  return secured;
}

/** The config object holding `certificate_header_name` and `secure_source`, for plugins that read one. */
function headerSource(plugin: string, config: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> | null {
  if (plugin === 'header-cert-auth') return config;
  if (plugin === 'openid-connect') {
    const fromHeader = config['proof_of_possession_mtls_from_header'];
    return typeof fromHeader === 'object' && fromHeader !== null && !Array.isArray(fromHeader) ? (fromHeader as Record<string, unknown>) : null;
  }
  return null;
}
