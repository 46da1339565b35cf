// The quickstart's view of the gateway's requests: every finished request is passed on to the
// metrics, shown to the user (with the reason of a refusal), and handed to whoever waits for it by
// request id — which is how `--check` learns why the gateway answered as it did.
import type { AccessRecord } from '../server/access-log.js';
import type { GatewayObserver } from '../server/observer.js';

const KEEP = 100;

export class RequestLog implements GatewayObserver {
  readonly #next: GatewayObserver;
  readonly #onRequest: ((record: Readonly<AccessRecord>) => void) | undefined;
  readonly #recent = new Map<string, Readonly<AccessRecord>>();
  readonly #waiters = new Map<string, (record: Readonly<AccessRecord>) => void>();

  constructor(next: GatewayObserver, onRequest?: (record: Readonly<AccessRecord>) => void) {
    this.#next = next;
    this.#onRequest = onRequest;
  }

  requestFinished(record: Readonly<AccessRecord>): void {
    this.#next.requestFinished?.(record);
    this.#onRequest?.(record);
    const waiter = this.#waiters.get(record.request_id);
    if (waiter !== undefined) {
      this.#waiters.delete(record.request_id);
      waiter(record);
      return;
    }
    this.#recent.set(record.request_id, record);
    if (this.#recent.size > KEEP) this.#recent.delete(this.#recent.keys().next().value ?? '');
  }

  tlsHandshake(info: { readonly clientCertificate: boolean; readonly resumed: boolean }): void {
    this.#next.tlsHandshake?.(info);
  }

  connection(delta: 1 | -1): void {
    this.#next.connection?.(delta);
  }

  /** The record of the request with this id, once it has finished; null after `timeoutMs`. */
  waitFor(requestId: string, timeoutMs = 5000): Promise<Readonly<AccessRecord> | null> {
    const seen = this.#recent.get(requestId);
    if (seen !== undefined) {
      this.#recent.delete(requestId);
      return Promise.resolve(seen);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(requestId);
        resolve(null);
      }, timeoutMs);
      this.#waiters.set(requestId, (record) => {
        clearTimeout(timer);
        resolve(record);
      });
    });
  }
}

/** One line per request: `GET /anything → 401  openid-connect: pop_certificate_missing  (no client certificate)`. */
export function formatRequestLine(record: Readonly<AccessRecord>): string {
  const why = record.auth !== null ? `${record.auth.plugin}: ${record.auth.reason}` : (record.reason ?? '');
  const certificate = record.thumbprint === null ? 'no client certificate' : `client certificate x5t#S256 ${record.thumbprint}`;
  return `${record.method} ${record.path} → ${record.status}${why === '' ? '' : `  ${why}`}  (${certificate})`;
}
