import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import type { Config, Service } from '../config/types.js';
import { defaultTrustWith } from '../util/default-trust.js';

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
  /**
   * `--upstream-http2`: offer HTTP/2 (ALPN h2, then http/1.1) to https services too, not only to
   * grpcs ones. Off by default: Kong speaks HTTP/1.1 to http and https services.
   */
  readonly httpsOverHttp2?: boolean;
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
  /**
   * HTTP/2 to the upstream: `h2` over TLS (grpcs, ALPN), `h2c` in cleartext with prior knowledge
   * (grpc); null: HTTP/1.1, as Kong (nginx) speaks to http and https services.
   */
  readonly http2: 'h2' | 'h2c' | null;
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

/**
 * Where a balanced service's connection goes instead of its own host and port: one target of its
 * upstream (`balancer/`), with the SNI that the target's Host header implies and the upstream's
 * client certificate (used when the service has none, as Kong's `upstream_ssl.lua`).
 */
export interface TargetAddress {
  readonly host: string;
  readonly port: number;
  /** SNI; undefined for none (an IP address). */
  readonly servername: string | undefined;
  /** The upstream's `client_certificate`, or null. */
  readonly clientCertificate: string | null;
}

/** Derives a service's target (or one target of its upstream); throws when the configuration names an entity that is not there. */
export function upstreamTargetOf(service: Service, config: Config, options: UpstreamPoolOptions, address: TargetAddress | null = null): UpstreamTarget {
  const rawHost = address?.host ?? service.host;
  const host = rawHost.includes(':') ? `[${rawHost}]` : rawHost;
  const secure = service.protocol === 'https' || service.protocol === 'grpcs' || service.protocol === 'wss';
  const origin = `${secure ? 'https' : 'http'}://${host}:${address?.port ?? service.port}`;
  const upstreamTls = secure ? tlsSettingsOf(service, config, options, address) : null;
  const http2 = service.protocol === 'grpcs' || (service.protocol === 'https' && options.httpsOverHttp2 === true) ? 'h2' : service.protocol === 'grpc' ? 'h2c' : null;
  const key = digest([
    origin,
    http2,
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
  return { key, origin, connectTimeoutMs: service.connect_timeout, tls: upstreamTls, http2 };
}

function tlsSettingsOf(service: Service, config: Config, options: UpstreamPoolOptions, address: TargetAddress | null): UpstreamTls {
  return {
    // null means "the gateway default", which is to verify (fail closed).
    rejectUnauthorized: service.tls_verify !== false,
    ca: trustAnchorsOf(service, config, options),
    clientCert: clientCertificateOf(service.client_certificate ?? address?.clientCertificate ?? null, service, config),
    servername: address !== null ? address.servername : isIP(service.host) === 0 ? service.host : undefined,
    verifyDepth: service.tls_verify_depth,
  };
}

/**
 * A service's own `ca_certificates` replace every other anchor (Kong's behaviour); otherwise the
 * default store, widened by `--trusted-certificate`.
 */
function trustAnchorsOf(service: Service, config: Config, options: UpstreamPoolOptions): readonly string[] | undefined {
  if (service.ca_certificates !== null) {
    return service.ca_certificates.map((id) => {
      const found = config.ca_certificates.find((ca) => ca.id === id);
      if (found === undefined) throw new Error(`service ${service.id} names unknown ca_certificate ${id}`);
      return found.cert;
    });
  }
  return defaultTrustWith(options.trustedCaPems);
}

function clientCertificateOf(id: string | null, service: Service, config: Config): UpstreamTls['clientCert'] {
  if (id === null) return undefined;
  const found = config.certificates.find((c) => c.id === id);
  if (found === undefined) throw new Error(`service ${service.id} (or its upstream) names unknown client_certificate ${id}`);
  // Only the primary pair: a client presents one certificate, and cert_alt exists for servers
  // that offer both RSA and ECDSA.
  return { cert: found.cert, key: found.key };
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
