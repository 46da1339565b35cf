import type { AccessRecord } from './access-log.js';

/**
 * Hooks through which the server reports what happens, for metrics. Every method is optional and
 * must be cheap and synchronous: they run on the hot path.
 */
export interface GatewayObserver {
  /** A request finished (answered, refused or aborted). */
  requestFinished?(record: Readonly<AccessRecord>): void;
  /** A TLS handshake completed on a proxy listener. */
  tlsHandshake?(info: { readonly clientCertificate: boolean; readonly resumed: boolean }): void;
  /** A client connection opened (+1) or closed (-1) on a proxy listener. */
  connection?(delta: 1 | -1): void;
}
