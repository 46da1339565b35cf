import { constants, createHash } from 'node:crypto';
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Runtime } from '../runtime/runtime.js';
import type { RuntimeHolder } from '../runtime/runtime-holder.js';

/**
 * Per-SNI client-certificate requests on a Node TLS server.
 *
 * Node decides `requestCert` when it wraps the accepted socket, before the ClientHello is read,
 * and offers no per-SNI option. But Node runs the SNICallback from OpenSSL's certificate callback
 * (`SSL_CTX_set_cert_cb`): the ClientHello is parsed, the server flight (and with it the
 * CertificateRequest) is not yet written, and the handshake waits for the callback. The TLS
 * handle's `setVerifyMode(requestCert, rejectUnauthorized)` (what Node itself calls when it wraps
 * the socket; it is `SSL_set_verify` on this connection only) therefore still decides whether this
 * handshake asks. The callback is invoked as a method of the TLSSocket, so it can reach the handle.
 * A SecureContext returned from the SNICallback cannot carry this: Node copies only the
 * certificate, key, chain and CA store from it, not the verify mode.
 *
 * `_handle.setVerifyMode` is internal; `requestCertificate` checks it exists and reports failure,
 * and a test fails on a Node version where it stops working. Without it no certificate is asked
 * for, which the authentication plugins answer with 401: fail closed.
 */
export function requestCertificate(socket: TLSSocket, request: boolean): boolean {
  const handle = (socket as unknown as { _handle?: { setVerifyMode?: unknown } | null })._handle;
  if (handle === null || handle === undefined || typeof handle.setVerifyMode !== 'function') return false;
  // requestCert without rejectUnauthorized: ask, never require or fail the handshake (Kong's REQUEST).
  (handle.setVerifyMode as (request: boolean, reject: boolean) => void).call(handle, request, false);
  return true;
}

/**
 * Keeps a TLS server's defaults in line with the current configuration. Clients that send no SNI
 * never reach the SNICallback, so for them the server-wide `requestCert` (read for each new
 * connection) is the answer: true only when every handshake asks.
 *
 * Session resumption: a resumed session carries the leaf certificate of the handshake that created
 * it (checked by test), and OpenSSL decides to resume before the certificate callback runs. So a
 * session created where no certificate was asked could be resumed for an SNI that needs one, and
 * would carry no certificate. Hence:
 * - when the policy changes, the server context is rebuilt (fresh ticket keys, a session id context
 *   derived from the policy), so no older session resumes under the new policy;
 * - when some SNIs ask and others do not, session tickets are turned off altogether (Node servers
 *   keep no session-id cache), so every handshake is a full one. Uniform policies (ask everywhere,
 *   or nowhere) keep resumption, since every session was made under the same rule.
 */
export function followCertificatePolicy(
  server: HttpsServer,
  holder: RuntimeHolder,
  contextOptions: (runtime: Runtime) => Parameters<HttpsServer['setSecureContext']>[0],
): () => void {
  let applied: string | null = null;
  const apply = (runtime: Runtime): void => {
    const policy = runtime.certificateRequests;
    // The default context also names the CAs of `send_ca_dn` for clients that send no SNI.
    const fingerprint = `${policy.fingerprint}/${runtime.caNames.fingerprint}`;
    if (fingerprint === applied) return;
    applied = fingerprint;
    const base = contextOptions(runtime);
    server.setSecureContext({
      ...base,
      sessionIdContext: createHash('sha256').update(fingerprint).digest('hex').slice(0, 32),
      secureOptions: (base.secureOptions ?? 0) | (policy.mixed ? constants.SSL_OP_NO_TICKET : 0),
    });
    (server as HttpsServer & { requestCert: boolean }).requestCert = policy.everyHandshake;
  };
  apply(holder.current);
  return holder.onSwap((next) => apply(next));
}
