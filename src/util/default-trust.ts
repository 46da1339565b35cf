/**
 * Trust anchors for outgoing TLS (upstreams, health probes, identity providers): node's default
 * store, widened by `--trusted-certificate`. Passing `ca` to node replaces its default store, so the
 * default is spelled out when extra anchors are added.
 */
import tls from 'node:tls';

let defaultCa: readonly string[] | undefined;

/**
 * The store node would use without `ca`: bundled roots plus NODE_EXTRA_CA_CERTS (and the system
 * store under --use-system-ca), from `tls.getCACertificates` where it exists (node ≥ 22.15).
 */
export function defaultCaPems(): readonly string[] {
  if (defaultCa === undefined) {
    const getter = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
    defaultCa = getter === undefined ? tls.rootCertificates : getter('default');
  }
  return defaultCa;
}

/** The `ca` option for extra anchors on top of the default store; undefined (node's default) when there are none. */
export function defaultTrustWith(extra: readonly string[]): readonly string[] | undefined {
  return extra.length === 0 ? undefined : [...defaultCaPems(), ...extra];
}
