import { X509Certificate } from 'node:crypto';
import type { Consumer } from '../../config/types.js';
import { authenticated, proceedAsAnonymous } from '../../pipeline/anonymous.js';
import type { RequestContext } from '../../pipeline/context.js';
import { GatewayError } from '../../pipeline/gateway-error.js';
import type { PluginEnvironment } from '../../pipeline/plugin.js';
import type { ClientCertificate } from '../../connection/client-certificate.js';
import { TrustStore, type TrustFailure } from '../../util/certificate-trust.js';
import { namedConsumer } from '../../config/find-consumer.js';
import type { CertificateAuthConfig } from './certificate-auth-fields.js';
import { createRevocationChecker, describeRevocationSubject, type RevocationSubject } from './revocation-checker.js';

/**
 * Certificate → verified identity, shared by mtls-auth (certificate from the handshake) and
 * header-cert-auth (certificate from a trusted proxy's header). Built once per plugin instance:
 * the trust store, the consumer maps and the verification cache live here; a request only looks up.
 */
export interface CertificateAuthenticator {
  /** Authenticates `certificate` (null: none was presented) and sets ctx.identity/ctx.auth, or throws a 401. */
  authenticate(ctx: RequestContext, certificate: ClientCertificate | null): Promise<void>;
  /** Releases the connections to OCSP responders and CRL servers. */
  close(): Promise<void>;
}

/** A chain verification, plus what a revocation check of the leaf needs (null: nothing to check). */
type Verification =
  | { readonly ok: true; readonly anchorId: string; readonly revocation: RevocationSubject | null }
  | { readonly ok: false; readonly reason: TrustFailure; readonly detail: string };

const noCertificate = 'No required TLS certificate was sent';
const failedVerification = 'TLS certificate failed verification';
const maxCachedResults = 10_000;

export function createCertificateAuthenticator(plugin: string, config: CertificateAuthConfig, env: PluginEnvironment): CertificateAuthenticator {
  const cas = config.ca_certificates.map((id) => {
    const entity = env.config.ca_certificates.find((ca) => ca.id === id.toLowerCase());
    if (entity === undefined) throw new Error(`${plugin}: ca_certificates '${id}' does not exist`);
    return { id: entity.id, certificate: new X509Certificate(entity.cert) };
  });
  const trust = new TrustStore(cas, { allowPartialChain: config.allow_partial_chain });
  const byUsername = new Map<string, Consumer>();
  const byCustomId = new Map<string, Consumer>();
  for (const consumer of env.config.consumers) {
    if (consumer.username !== null) byUsername.set(consumer.username, consumer);
    if (consumer.custom_id !== null) byCustomId.set(consumer.custom_id, consumer);
  }
  const anonymous = namedConsumer(env.config, config.anonymous);
  const defaultConsumer = namedConsumer(env.config, config.default_consumer);
  const caCertificates = cas.map((ca) => ca.certificate);
  const revocation =
    config.revocation_check_mode === 'SKIP'
      ? null
      : createRevocationChecker({
          mode: config.revocation_check_mode,
          cacheTtlMs: config.cert_cache_ttl,
          httpTimeoutMs: config.http_timeout,
          sslVerify: config.ssl_verify,
          trustedCaPems: env.trustedCaPems,
          logger: env.logger,
        });
  // Per certificate object (one per TLS connection, one per header request): verify once.
  const pending = new WeakMap<ClientCertificate, Promise<Verification>>();
  // Successes by thumbprint, so a resumed TLS session (whose intermediates OpenSSL did not keep)
  // still verifies within cert_cache_ttl of the full handshake that proved the chain, and still
  // knows the issuer its revocation check needs.
  const verified = new Map<string, { anchorId: string; revocation: RevocationSubject | null; until: number }>();

  const verify = (certificate: ClientCertificate): Promise<Verification> => {
    let result = pending.get(certificate);
    if (result === undefined) {
      result = verifyUncached(certificate);
      pending.set(certificate, result);
    }
    return result;
  };

  const verifyUncached = async (certificate: ClientCertificate): Promise<Verification> => {
    const now = Date.now();
    const cached = verified.get(certificate.thumbprint);
    const leafCurrent = now >= certificate.notBefore.getTime() && now <= certificate.notAfter.getTime();
    if (cached !== undefined && cached.until > now && leafCurrent) return { ok: true, anchorId: cached.anchorId, revocation: cached.revocation };
    const result = await trust.verify(certificate.certificate, certificate.chain, new Date(now));
    if (!result.ok) return result;
    // The issuer is looked for where the chain was just proven: the configured CAs and what the client sent.
    const subject = revocation !== null && hasRevocationPointers(certificate) ? describeRevocationSubject(certificate, [...caCertificates, ...certificate.chain]) : null;
    if (config.cert_cache_ttl > 0) {
      if (verified.size >= maxCachedResults) verified.clear();
      verified.set(certificate.thumbprint, { anchorId: result.anchorId, revocation: subject, until: now + config.cert_cache_ttl });
    }
    return { ok: true, anchorId: result.anchorId, revocation: subject };
  };

  const refuse = (ctx: RequestContext, reason: string, message: string, detail: string): void => {
    if (anonymous !== null) return proceedAsAnonymous(ctx, plugin, anonymous, reason);
    ctx.auth = { plugin, outcome: 'failure', reason };
    throw new GatewayError({ status: 401, code: reason, message, description: detail });
  };

  return {
    async authenticate(ctx, certificate) {
      // Kong's "logical OR": with `anonymous` set, a request another plugin already identified passes.
      if (anonymous !== null && authenticated(ctx)) return;
      if (certificate === null) return refuse(ctx, 'no_client_certificate', noCertificate, 'no client certificate');
      const result = await verify(certificate);
      if (!result.ok) {
        env.logger.info({ request_id: ctx.id, reason: result.reason, detail: result.detail, thumbprint: certificate.thumbprint }, 'client certificate refused');
        return refuse(ctx, result.reason, failedVerification, result.detail);
      }
      if (revocation !== null && result.revocation !== null) {
        // Per request, but a cache hit is a Map lookup: fetches happen once per (issuer, serial) and TTL.
        const status = await revocation.check(result.revocation);
        if (status.status === 'revoked') {
          env.logger.info({ request_id: ctx.id, reason: 'certificate_revoked', source: status.source, thumbprint: certificate.thumbprint }, 'client certificate refused');
          return refuse(ctx, 'certificate_revoked', failedVerification, `certificate revoked (${status.source.toUpperCase()})`);
        }
        // IGNORE_CA_ERROR: the checker logged a warning when it failed to get the status.
        if (status.status === 'unknown' && config.revocation_check_mode === 'STRICT') {
          env.logger.info({ request_id: ctx.id, reason: 'revocation_unknown', detail: status.detail, thumbprint: certificate.thumbprint }, 'client certificate refused');
          return refuse(ctx, 'revocation_unknown', failedVerification, 'revocation status unavailable');
        }
      }
      if (config.skip_consumer_lookup) {
        ctx.upstreamHeaders['x-client-cert-dn'] = certificate.subjectDn;
        const sans = certificate.subjectAltNames.map((s) => s.value);
        if (sans.length > 0) ctx.upstreamHeaders['x-client-cert-san'] = sans.join(',');
        const group = config.authenticated_group_by === 'DN' ? certificate.subjectDn : certificate.commonName;
        ctx.identity = { consumer: null, credentialId: null, groups: group === null ? null : [group], anonymous: false };
        ctx.auth = { plugin, outcome: 'success', reason: 'certificate_verified' };
        return;
      }
      const consumer = lookUpConsumer(certificate) ?? defaultConsumer;
      if (consumer === null) return refuse(ctx, 'consumer_not_found', failedVerification, 'no consumer matches the certificate');
      ctx.identity = { consumer, credentialId: null, groups: null, anonymous: false };
      ctx.auth = { plugin, outcome: 'success', reason: 'certificate_verified' };
    },
    async close() {
      await revocation?.close();
    },
  };

  /** SANs first, then the CN, each against the consumer fields in `consumer_by` order (Kong). */
  function lookUpConsumer(certificate: ClientCertificate): Consumer | null {
    const names = certificate.subjectAltNames.map((s) => s.value);
    if (certificate.commonName !== null) names.push(certificate.commonName);
    for (const name of names) {
      for (const field of config.consumer_by) {
        const found = (field === 'username' ? byUsername : byCustomId).get(name);
        if (found !== undefined) return found;
      }
    }
    return null;
  }
}

/** Whether the certificate names a CRL distribution point or an OCSP responder. */
function hasRevocationPointers(certificate: ClientCertificate): boolean {
  return certificate.revocation.crl.length > 0 || certificate.revocation.ocsp.length > 0;
}
