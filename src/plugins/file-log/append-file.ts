/**
 * Appends lines to a file without blocking the event loop and without letting a slow or failing
 * disk fail a request: lines queue in memory (bounded: past `maxPendingBytes` a line is dropped
 * and counted), and one write at a time takes everything queued so far (one write per batch, not
 * per line). A failed write drops its batch, is logged (throttled) and the next batch reopens the
 * file. With `reopen`, every batch opens and closes the file (Kong's reopen, per write).
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { logThrottle } from '../../util/log-throttle.js';

export interface AppendFileOptions {
  readonly path: string;
  readonly reopen: boolean;
  readonly logger: Logger;
  /** Bytes queued at most while writes are slow (default 16 MiB). */
  readonly maxPendingBytes?: number;
  /** Lines lost (a full queue, a failed write), for the drop counter. */
  readonly dropped?: (count: number, reason: 'queue_full' | 'write_failed') => void;
}

export class AppendFile {
  readonly #path: string;
  readonly #reopen: boolean;
  readonly #logger: Logger;
  readonly #maxPendingBytes: number;
  readonly #reportDrop: (count: number, reason: 'queue_full' | 'write_failed') => void;
  readonly #mayLog = logThrottle(10_000);
  #handle: FileHandle | null = null;
  #pending: string[] = [];
  #pendingBytes = 0;
  #writing: Promise<void> | null = null;
  #closed = false;
  /** Lines lost to a full queue or a failed write, since the start. */
  dropped = 0;

  constructor(options: AppendFileOptions) {
    this.#path = options.path;
    this.#reopen = options.reopen;
    this.#logger = options.logger;
    this.#maxPendingBytes = options.maxPendingBytes ?? 16 * 1024 * 1024;
    this.#reportDrop = options.dropped ?? (() => {});
  }

  /** Queues one line (with its newline); never throws. */
  append(line: string): void {
    if (this.#closed) return;
    if (this.#pendingBytes + line.length > this.#maxPendingBytes) {
      this.dropped++;
      this.#reportDrop(1, 'queue_full');
      if (this.#mayLog()) this.#logger.warn({ path: this.#path, dropped: this.dropped }, 'file-log: writes are too slow, records dropped');
      return;
    }
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    this.#writing ??= this.#drain();
  }

  /** Writes what is queued, then closes the file. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#writing;
    await this.#closeHandle();
  }

  async #drain(): Promise<void> {
    // Let the lines of this event-loop turn join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#pending.length > 0) {
      const batch = this.#pending.join('');
      const lines = this.#pending.length;
      this.#pending = [];
      this.#pendingBytes = 0;
      try {
        this.#handle ??= await open(this.#path, 'a', 0o644);
        await this.#handle.write(batch);
        if (this.#reopen) await this.#closeHandle();
      } catch (error) {
        this.dropped += lines;
        this.#reportDrop(lines, 'write_failed');
        if (this.#mayLog()) this.#logger.error({ err: error, path: this.#path, dropped: this.dropped }, 'file-log: could not write to the file, records dropped');
        await this.#closeHandle();
      }
    }
    this.#writing = null;
  }

  async #closeHandle(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    try {
      await handle?.close();
    } catch {
      // Nothing is left to lose on a file we stop using.
    }
  }
}
