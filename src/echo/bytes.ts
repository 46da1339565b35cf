// Payloads for /bytes and /stream-bytes: random, or reproducible from a seed so a test can compute
// what it should have received.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** Returns the next `n` bytes of a stream each call. */
export type ByteSource = (n: number) => Buffer;

/** Cryptographically random bytes. */
export const randomSource: ByteSource = (n) => randomBytes(n);

/**
 * A deterministic byte stream (mulberry32, little-endian words) for `?seed=`. Not for secrets: it only
 * has to be the same sequence however it is chunked, here and in `seededBytes`.
 */
export function seededSource(seed: number): ByteSource {
  let state = seed >>> 0;
  let spare = Buffer.alloc(0);
  const nextWord = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return (n) => {
    const out = Buffer.allocUnsafe(n);
    const filled = spare.copy(out, 0, 0, Math.min(spare.length, n));
    spare = spare.subarray(filled);
    if (filled < n) {
      const needed = n - filled;
      const block = Buffer.allocUnsafe(Math.ceil(needed / 4) * 4);
      for (let i = 0; i < block.length; i += 4) block.writeUInt32LE(nextWord(), i);
      block.copy(out, filled, 0, needed);
      spare = block.subarray(needed);
    }
    return out;
  };
}

/** The first `length` bytes /bytes/{length}?seed={seed} sends. */
export function seededBytes(seed: number, length: number): Buffer {
  return seededSource(seed)(length);
}

/**
 * Writes `total` bytes from `source` in `chunkSize` pieces, honouring backpressure, and stops
 * quietly if the client goes away.
 */
export async function writeBytes(res: ServerResponse, source: ByteSource, total: number, chunkSize: number): Promise<void> {
  let sent = 0;
  while (sent < total) {
    if (res.destroyed) return;
    const n = Math.min(chunkSize, total - sent);
    sent += n;
    if (!res.write(source(n))) await drainedOrClosed(res);
  }
  res.end();
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
