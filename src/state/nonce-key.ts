/**
 * The DPoP nonce key on disk: 32 random bytes as one base64url line, created (mode 0600) the first
 * time a gateway starts with a prefix. Nodes that should accept each other's nonces are given the
 * same file (`--dpop-nonce-key-file`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createFileOnce } from '../util/private-file.js';

const MIN_BYTES = 32;

function decode(text: string, file: string): Buffer {
  const line = text.trim();
  const key = /^[A-Za-z0-9_-]+$/.test(line) ? Buffer.from(line, 'base64url') : Buffer.alloc(0);
  if (key.length < MIN_BYTES) throw new Error(`${file}: a DPoP nonce key file holds one base64url line of at least ${MIN_BYTES} bytes`);
  return key;
}

/** Reads the key file. */
export async function readNonceKey(file: string): Promise<Buffer> {
  return decode(await readFile(file, 'utf8'), file);
}

/**
 * Reads the key file, creating it with a fresh key when it does not exist yet. Creation is atomic
 * (`createFileOnce`): concurrent first starts agree on one key, and nobody reads a partial file.
 */
export async function loadOrCreateNonceKey(file: string): Promise<Buffer> {
  try {
    return await readNonceKey(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(file), { recursive: true });
  const key = randomBytes(MIN_BYTES);
  // Another process created it first: use that one.
  return (await createFileOnce(file, `${key.toString('base64url')}\n`)) ? key : readNonceKey(file);
}
