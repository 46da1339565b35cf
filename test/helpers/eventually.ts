import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it gives something other than undefined or false, and returns that; fails
 * naming `what` after `timeoutMs`. For facts that arrive asynchronously from another process (a log
 * line, a health flip, a frame), never for timing behaviour.
 */
export async function eventually<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
