/**
 * What the primary and its proxy workers say to each other over the cluster IPC channel. Every
 * configuration travels as the canonical decK document (references by id), so a worker validates
 * and compiles exactly what the primary saved; `seq` pairs each change with its acknowledgement.
 */
import type { DeckDocument } from '../../config/export.js';
import type { ServerStats } from '../../admin/info-routes.js';
import type { RateAnswerMessage, RateTakeMessage } from '../../state/ipc-rate-counters.js';
import type { ReplayAnswerMessage, ReplayClaimMessage } from '../../state/ipc-replay-cache.js';

export interface ListenerAddress {
  readonly kind: 'proxy';
  readonly ssl: boolean;
  readonly host: string;
  readonly port: number;
}

export type ToWorker =
  | { readonly type: 'portcullis:config'; readonly seq: number; readonly document: DeckDocument }
  | { readonly type: 'portcullis:stats'; readonly seq: number }
  | { readonly type: 'portcullis:stop' }
  | HealthMessage
  | ReplayAnswerMessage
  | RateAnswerMessage;

export type FromWorker =
  | { readonly type: 'portcullis:hello' }
  | { readonly type: 'portcullis:ready'; readonly listeners: readonly ListenerAddress[]; readonly nodeFlags: readonly string[] }
  | { readonly type: 'portcullis:applied'; readonly seq: number; readonly hash: string | null; readonly error: string | null }
  | { readonly type: 'portcullis:stats'; readonly seq: number; readonly stats: ServerStats }
  | { readonly type: 'portcullis:failed'; readonly error: string }
  | HealthMessage
  | ReplayClaimMessage
  | RateTakeMessage;

/**
 * A target's health changed. From a worker: its passive check flipped it (the primary takes it for
 * the node); from the primary: the node's state, which every worker follows at once.
 */
export interface HealthMessage {
  readonly type: 'portcullis:health';
  readonly upstream: string;
  readonly target: string;
  readonly healthy: boolean;
}

/** Whether an IPC message is one of ours (prom-client and Node use the same channel). */
export function isPortcullisMessage<T extends { type: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string' && (message as { type: string }).type.startsWith('portcullis:');
}
