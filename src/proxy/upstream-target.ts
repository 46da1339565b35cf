import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import tls, { type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import type { Config, Service } from '../config/types.js';

/** Settings shared by every upstream connection pool of one configuration. */
export interface UpstreamPoolOptions {
  /** Extra CAs trusted for upstream TLS (`--trusted-certificate`), on top of the default store. */
  readonly trustedCaPems: readonly string[];
  /** Most connections kept open to one upstream target. */
  readonly connectionsPerUpstream?: number;
  /** Idle time before a kept-alive upstream connection is closed, unless the upstream hints less. */
  readonly keepAliveTimeoutMs?: number;
  /** Requests in flight per connection; 1 (no pipelining) is the only safe choice for unknown upstreams. */
  readonly pipelining?: number;
}

export const defaultConnectionsPerUpstream = 128;
// undici's own default: shorter than the 5 s idle timeout of node:http servers, so a kept-alive
// connection is rarely reused just as the upstream closes it.
export const defaultKeepAliveTimeoutMs = 4_000;
export const defaultPipelining = 1;

/** What a pool connects to: everything that makes two services' connections interchangeable. */
export interface UpstreamTarget {
  /** Digest of every setting below; equal keys may share one pool, across configurations too. */
  readonly key: string;
  readonly origin: string;
  readonly connectTimeoutMs: number;
  readonly tls: UpstreamTls | null;
}

export interface UpstreamTls {
  readonly rejectUnauthorized: boolean;
  /** Trust anchors; undefined = node's default store. */
  readonly ca: readonly string[] | undefined;
  /** Certificate and key presented to the upstream (a service's `client_certificate`). */
  readonly clientCert: { readonly cert: string; readonly key: string } | undefined;
  /** SNI; undefined for an IP address, where TLS forbids it. */
  readonly servername: string | undefined;
  readonly verifyDepth: number | null;
}

/** Derives a service's target; throws when the configuration names an entity that is not there. */
export function upstreamTargetOf(service: Service, config: Config, options: UpstreamPoolOptions): UpstreamTarget {
  const host = service.host.includes(':') ? `[${service.host}]` : service.host;
  const origin = `${service.protocol}://${host}:${service.port}`;
  const upstreamTls = service.protocol === 'https' ? tlsSettingsOf(service, config, options) : null;
  const key = digest([
    origin,
    service.connect_timeout,
    options.connectionsPerUpstream ?? defaultConnectionsPerUpstream,
    options.keepAliveTimeoutMs ?? defaultKeepAliveTimeoutMs,
    options.pipelining ?? defaultPipelining,
    upstreamTls === null
      ? null
      : [
          upstreamTls.rejectUnauthorized,
          upstreamTls.ca === undefined ? null : upstreamTls.ca.map(fingerprintOf),
          upstreamTls.clientCert === undefined ? null : [upstreamTls.clientCert.cert, upstreamTls.clientCert.key].map(fingerprintOf),
          upstreamTls.servername ?? null,
          upstreamTls.verifyDepth,
        ],
  ]);
  return { key, origin, connectTimeoutMs: service.connect_timeout, tls: upstreamTls };
}

function tlsSettingsOf(service: Service, config: Config, options: UpstreamPoolOptions): UpstreamTls {
  return {
    // null means "the gateway default", which is to verify (fail closed).
    rejectUnauthorized: service.tls_verify !== false,
    ca: trustAnchorsOf(service, config, options),
    clientCert: clientCertificateOf(service, config),
    servername: isIP(service.host) === 0 ? service.host : undefined,
    verifyDepth: service.tls_verify_depth,
  };
}

/**
 * A service's own `ca_certificates` replace every other anchor (Kong's behaviour); otherwise the
 * default store, widened by `--trusted-certificate`. Passing `ca` to node replaces its default store,
 * so the default is spelled out when extra anchors are added.
 */
function trustAnchorsOf(service: Service, config: Config, options: UpstreamPoolOptions): readonly string[] | undefined {
  if (service.ca_certificates !== null) {
    return service.ca_certificates.map((id) => {
      const found = config.ca_certificates.find((ca) => ca.id === id);
      if (found === undefined) throw new Error(`service ${service.id} names unknown ca_certificate ${id}`);
      return found.cert;
    });
  }
  if (options.trustedCaPems.length === 0) return undefined;
  return [...defaultCaPems(), ...options.trustedCaPems];
}

function clientCertificateOf(service: Service, config: Config): UpstreamTls['clientCert'] {
  if (service.client_certificate === null) return undefined;
  const found = config.certificates.find((c) => c.id === service.client_certificate);
  if (found === undefined) throw new Error(`service ${service.id} names unknown client_certificate ${service.client_certificate}`);
  // Only the primary pair: a client presents one certificate, and cert_alt exists for servers
  // that offer both RSA and ECDSA.
  return { cert: found.cert, key: found.key };
}

let defaultCa: readonly string[] | undefined;

/**
 * The store node would use without `ca`: bundled roots plus NODE_EXTRA_CA_CERTS (and the system
 * store under --use-system-ca) where `tls.getCACertificates` exists (node ≥ 22.15), else the roots.
 */
function defaultCaPems(): readonly string[] {
  if (defaultCa === undefined) {
    const getter = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
    defaultCa = getter === undefined ? tls.rootCertificates : getter('default');
  }
  return defaultCa;
}

/**
 * `tls_verify_depth` with OpenSSL's meaning: depth d allows the leaf (level 0), d intermediates and
 * a trust anchor at level d + 1. node has no verify-depth option, so the verified chain is counted
 * here, in checkServerIdentity, which node calls with the full chain.
 */
export function checkVerifyDepth(cert: PeerCertificate, depth: number): Error | undefined {
  let length = 0;
  const seen = new Set<string>();
  let current: PeerCertificate | undefined = cert;
  while (current !== undefined && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    length += 1;
    const issuer: DetailedPeerCertificate | undefined = (current as Partial<DetailedPeerCertificate>).issuerCertificate;
    current = issuer !== undefined && Object.keys(issuer).length > 0 ? issuer : undefined;
  }
  if (length <= depth + 2) return undefined;
  return Object.assign(new Error(`upstream certificate chain of ${length} exceeds tls_verify_depth ${depth}`), {
    code: 'CERT_CHAIN_TOO_LONG',
  });
}

function fingerprintOf(pem: string): string {
  return createHash('sha256').update(pem).digest('base64url');
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url');
}
