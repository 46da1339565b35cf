import type { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';

/** Why a certificate was not accepted; stable codes for logs and the access log's reason. */
export type TrustFailure =
  | 'certificate_expired'
  | 'certificate_not_yet_valid'
  | 'certificate_untrusted'
  | 'certificate_not_for_client_auth'
  | 'certificate_malformed';

export type TrustResult =
  | { readonly ok: true; /** Id of the configured CA the chain ended at. */ readonly anchorId: string }
  | { readonly ok: false; readonly reason: TrustFailure; readonly detail: string };

/** A CA certificate by the id of its `ca_certificates` entity. */
export interface TrustedCa {
  readonly id: string;
  readonly certificate: X509Certificate;
}

const clientAuth = '1.3.6.1.5.5.7.3.2';
const anyExtendedKeyUsage = '2.5.29.37.0';

/**
 * One plugin instance's trust: its CA certificates, compiled at config load. Path building and
 * signature checks are pkijs's `CertificateChainValidationEngine` (validity of every certificate,
 * CA basic constraints and key usage, signatures); only the leaf's own facts (validity for a
 * precise reason code, EKU) are checked here.
 *
 * Without `allowPartialChain` only self-signed CAs are trust anchors and the other configured CAs
 * may merely complete a path, as OpenSSL without X509_V_FLAG_PARTIAL_CHAIN; with it, any
 * configured CA ends a path (Kong's `allow_partial_chain`).
 */
export class TrustStore {
  readonly #anchors: Array<{ id: string; der: Buffer; parsed: pkijs.Certificate }>;
  readonly #pool: pkijs.Certificate[];

  constructor(cas: readonly TrustedCa[], options: { allowPartialChain: boolean }) {
    this.#anchors = [];
    this.#pool = [];
    for (const ca of cas) {
      const parsed = pkijs.Certificate.fromBER(ca.certificate.raw);
      const selfSigned = ca.certificate.checkIssued(ca.certificate);
      if (selfSigned || options.allowPartialChain) this.#anchors.push({ id: ca.id, der: ca.certificate.raw, parsed });
      else this.#pool.push(parsed);
    }
  }

  /** Verifies `leaf` (with the intermediates the client sent) at `now`. Never throws. */
  async verify(leaf: X509Certificate, chain: readonly X509Certificate[], now: Date = new Date()): Promise<TrustResult> {
    const validFrom = new Date(leaf.validFrom);
    const validTo = new Date(leaf.validTo);
    if (now < validFrom) return fail('certificate_not_yet_valid', `not valid before ${validFrom.toISOString()}`);
    if (now > validTo) return fail('certificate_expired', `expired at ${validTo.toISOString()}`);
    const usages = leaf.keyUsage as string[] | undefined; // Node names the extendedKeyUsage list `keyUsage`
    if (usages !== undefined && !usages.includes(clientAuth) && !usages.includes(anyExtendedKeyUsage)) {
      return fail('certificate_not_for_client_auth', 'extendedKeyUsage does not include clientAuth');
    }
    let result: pkijs.CertificateChainValidationEngineVerifyResult;
    try {
      const engine = new pkijs.CertificateChainValidationEngine({
        trustedCerts: this.#anchors.map((a) => a.parsed),
        certs: [pkijs.Certificate.fromBER(leaf.raw), ...chain.map((c) => pkijs.Certificate.fromBER(c.raw)), ...this.#pool],
        checkDate: now,
      });
      result = await engine.verify();
    } catch (error) {
      return fail('certificate_malformed', error instanceof Error ? error.message : String(error));
    }
    if (!result.result) {
      const reason = result.resultCode === 8 ? 'certificate_expired' : 'certificate_untrusted';
      return fail(reason, result.resultMessage || 'no path to a configured CA');
    }
    const last = result.certificatePath?.[result.certificatePath.length - 1];
    const lastDer = last === undefined ? null : Buffer.from(last.toSchema().toBER(false));
    const anchor = lastDer === null ? undefined : this.#anchors.find((a) => a.der.equals(lastDer));
    // pkijs ends a path only at a trusted certificate; anything else means we misread its result.
    if (anchor === undefined) return fail('certificate_untrusted', 'the path does not end at a configured CA');
    return { ok: true, anchorId: anchor.id };
  }
}

function fail(reason: TrustFailure, detail: string): TrustResult {
  return { ok: false, reason, detail };
}
