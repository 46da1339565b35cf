import { servesTls } from '../config/protocol-families.js';
import { createHash } from 'node:crypto';
import type { Config, PluginEntity, Route } from '../config/types.js';
import type { PluginDefinition } from '../pipeline/plugin.js';

/**
 * Which TLS handshakes ask the client for a certificate, compiled once per configuration from the
 * plugins whose definition says `requestsClientCertificate` (tls-handshake-modifier, mtls-auth).
 *
 * Kong's rule: a global plugin, a consumer-scoped one (the consumer is unknown during the
 * handshake), or one on a route or service where some route has no `snis` asks on every
 * handshake; when every such route lists `snis`, only handshakes for those names ask.
 */
export class CertificateRequestPolicy {
  /** Ask on every handshake, including clients that send no SNI. */
  readonly everyHandshake: boolean;
  /** Some handshakes ask and others do not: sessions must not be resumed across them. */
  readonly mixed: boolean;
  /** Changes whenever the answer of `requestsFor` could change; keys TLS session state. */
  readonly fingerprint: string;
  readonly #exact: ReadonlySet<string>;
  readonly #leading: readonly string[]; // '.example.com' for '*.example.com'
  readonly #trailing: readonly string[]; // 'example.' for 'example.*'

  private constructor(everyHandshake: boolean, snis: ReadonlySet<string>) {
    this.everyHandshake = everyHandshake;
    const names = everyHandshake ? [] : [...snis].sort();
    this.mixed = !everyHandshake && names.length > 0;
    this.#exact = new Set(names.filter((n) => !n.startsWith('*.') && !n.endsWith('.*')));
    this.#leading = names.filter((n) => n.startsWith('*.')).map((n) => n.slice(1));
    this.#trailing = names.filter((n) => n.endsWith('.*')).map((n) => n.slice(0, -1));
    this.fingerprint = createHash('sha256')
      .update(JSON.stringify([everyHandshake, names]))
      .digest('hex')
      .slice(0, 32);
  }

  /** No handshake asks. */
  static readonly none = new CertificateRequestPolicy(false, new Set());

  /** Whether a handshake for `sni` (lower-case; null when the client sent none) asks for a certificate. */
  requestsFor(sni: string | null): boolean {
    if (this.everyHandshake) return true;
    if (sni === null || !this.mixed) return false;
    if (this.#exact.has(sni)) return true;
    const dot = sni.indexOf('.');
    if (dot > 0 && this.#leading.includes(sni.slice(dot))) return true;
    const lastDot = sni.lastIndexOf('.');
    return lastDot > 0 && this.#trailing.includes(sni.slice(0, lastDot + 1));
  }

  static compile(config: Config, plugins: ReadonlyMap<string, PluginDefinition>): CertificateRequestPolicy {
    const snis = new Set<string>();
    for (const entity of config.plugins) {
      if (!entity.enabled || plugins.get(entity.name)?.requestsClientCertificate !== true) continue;
      if (!servesTls(entity.protocols)) continue;
      const routeSnis = scopeSnis(entity, config);
      if (routeSnis === 'every') return new CertificateRequestPolicy(true, snis);
      for (const sni of routeSnis) snis.add(sni);
    }
    return snis.size === 0 ? CertificateRequestPolicy.none : new CertificateRequestPolicy(false, snis);
  }
}

/** The SNIs a plugin's scope is reachable on, or 'every' when some of it is reachable without one. */
export function scopeSnis(entity: PluginEntity, config: Config): readonly string[] | 'every' {
  if (entity.consumer !== null) return 'every';
  let routes: readonly Route[];
  if (entity.route !== null) routes = config.routes.filter((r) => r.id === entity.route);
  else if (entity.service !== null) routes = config.routes.filter((r) => r.service === entity.service);
  else return 'every';
  const out: string[] = [];
  for (const route of routes) {
    if (route.snis === null || !servesTls(route.protocols)) {
      // An http-only route never sees a handshake; one without snis is reachable on any name.
      if (servesTls(route.protocols)) return 'every';
      continue;
    }
    out.push(...route.snis);
  }
  return out;
}
