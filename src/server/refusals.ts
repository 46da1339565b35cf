import { randomUUID } from 'node:crypto';
import type { ConnectionInfo } from '../connection/connection-info.js';
import type { AccessRecord } from './access-log.js';

/**
 * Requests the listeners refuse before the proxy handler sees them (malformed, too slow, without a
 * Host, CONNECT), over HTTP/1.1 and HTTP/2 alike: a short answer, a stable reason, an access record.
 */
export interface Refusal {
  readonly status: number;
  readonly statusText: string;
  readonly reason: string;
}

export const badRequest: Refusal = { status: 400, statusText: 'Bad Request', reason: 'bad_request' };
export const headerOverflow: Refusal = { status: 431, statusText: 'Request Header Fields Too Large', reason: 'request_header_fields_too_large' };
export const requestTimeout: Refusal = { status: 408, statusText: 'Request Timeout', reason: 'request_timeout' };
export const hostMissing: Refusal = { ...badRequest, reason: 'host_header_missing' };
export const hostDuplicated: Refusal = { ...badRequest, reason: 'host_header_duplicated' };
export const http10TransferEncoding: Refusal = { ...badRequest, reason: 'http10_transfer_encoding' };
export const connectRefused: Refusal = { status: 405, statusText: 'Method Not Allowed', reason: 'method_not_allowed' };
export const renegotiationRefused: Refusal = { ...badRequest, reason: 'tls_renegotiation_refused' };

/** The access record of a request refused before the handler, with a fresh request id. */
export function refusalRecord(connection: ConnectionInfo, refusal: Refusal, method: string, path: string, host: string): AccessRecord {
  return {
    request_id: randomUUID(),
    method,
    path,
    host,
    client: connection.remoteAddress,
    sni: connection.sni,
    thumbprint: connection.thumbprint,
    route: null,
    service: null,
    status: refusal.status,
    reason: refusal.reason,
    auth: null,
    latency_ms: { total: 0, upstream: null, gateway: 0 },
    config_version: 0,
  };
}

/** A request target without its query. */
export function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}
