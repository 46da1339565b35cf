import { servesTls } from '../config/protocol-families.js';
import { createHash } from 'node:crypto';
import type { Config } from '../config/types.js';
import { scopeSnis } from './certificate-requests.js';

/**
 * mtls-auth's `send_ca_dn`: which CA certificates a handshake names in its CertificateRequest,
 * compiled once per configuration with the same scope rule as the certificate request itself
 * (Kong: the plugin's route SNIs, or every handshake when some route has none). OpenSSL takes the
 * names from the SecureContext serving the handshake, so `TlsContexts` builds a variant with these
 * CAs as `ca` (verification does not depend on it: the plugins verify the chain themselves).
 */
export class CaNamesPolicy {
  /** Changes whenever `namesFor` could answer differently. */
  readonly fingerprint: string;
  readonly #everywhere: readonly string[];
  readonly #bySni: ReadonlyMap<string, readonly string[]>;

  private constructor(everywhere: readonly string[], bySni: ReadonlyMap<string, readonly string[]>) {
    this.#everywhere = everywhere;
    this.#bySni = bySni;
    this.fingerprint = createHash('sha256').update(JSON.stringify([everywhere, [...bySni].sort()])).digest('hex').slice(0, 32);
  }

  static readonly none = new CaNamesPolicy([], new Map());

  static compile(config: Config): CaNamesPolicy {
    const everywhere = new Set<string>();
    const bySni = new Map<string, Set<string>>();
    for (const entity of config.plugins) {
      if (!entity.enabled || entity.name !== 'mtls-auth' || entity.config['send_ca_dn'] !== true) continue;
      if (!servesTls(entity.protocols)) continue;
      const ids = new Set((entity.config['ca_certificates'] as readonly string[] | undefined) ?? []);
      const pems = config.ca_certificates.filter((ca) => ids.has(ca.id)).map((ca) => ca.cert);
      const scope = scopeSnis(entity, config);
      if (scope === 'every') for (const pem of pems) everywhere.add(pem);
      else for (const sni of scope) for (const pem of pems) bySni.set(sni, (bySni.get(sni) ?? new Set()).add(pem));
    }
    if (everywhere.size === 0 && bySni.size === 0) return CaNamesPolicy.none;
    const sorted = (s: Iterable<string>): string[] => [...s].sort();
    return new CaNamesPolicy(sorted(everywhere), new Map([...bySni].map(([sni, pems]) => [sni, sorted(new Set([...pems, ...everywhere]))])));
  }

  /** PEMs of the CAs to name for a handshake with this SNI (null when the client sent none). */
  namesFor(sni: string | null): readonly string[] {
    if (sni === null || this.#bySni.size === 0) return this.#everywhere;
    const exact = this.#bySni.get(sni);
    if (exact !== undefined) return exact;
    for (const [pattern, pems] of this.#bySni) {
      if (pattern.startsWith('*.') && sni.endsWith(pattern.slice(1))) return pems;
      if (pattern.endsWith('.*') && sni.startsWith(pattern.slice(0, -1))) return pems;
    }
    return this.#everywhere;
  }
}
