import type { Logger } from 'pino';
import type { AuthOutcome } from '../pipeline/context.js';
import type { TunnelEnd } from '../proxy/tunnel.js';

/** One access-log line. Never carries a token, key or secret: only ids, thumbprints and reasons. */
export interface AccessRecord {
  request_id: string;
  method: string;
  path: string;
  host: string;
  client: string;
  sni: string | null;
  /** RFC 8705 thumbprint of the client certificate, when one was presented. */
  thumbprint: string | null;
  route: string | null;
  service: string | null;
  status: number;
  /** Stable reason code of a refusal or failure (`no_route`, `upstream_timeout`, …). */
  reason: string | null;
  auth: AuthOutcome | null;
  latency_ms: { total: number; upstream: number | null; gateway: number };
  config_version: number;
  /** A WebSocket tunnel (status 101): how it ended and the bytes each way. Logged when it closes. */
  tunnel?: { end: TunnelEnd; bytes_up: number; bytes_down: number };
}

export function writeAccessLog(logger: Logger, record: AccessRecord): void {
  logger.info({ access: record }, 'request');
}
