/**
 * The DPoP nonce key on disk: 32 random bytes as one base64url line, created (mode 0600) the first
 * time a gateway starts with a prefix. Nodes that should accept each other's nonces are given the
 * same file (`--dpop-nonce-key-file`).
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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
 * Reads the key file, creating it with a fresh key when it does not exist yet. Creation is atomic:
 * the key is written and synced to a temporary file next to it, then hard-linked into place, which
 * fails (EEXIST) when another process got there first — then that one's key is used. So the file
 * appears complete or not at all, and concurrent first starts agree on one key.
 */
export async function loadOrCreateNonceKey(file: string): Promise<Buffer> {
  try {
    return await readNonceKey(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const directory = dirname(file);
  await mkdir(directory, { recursive: true });
  const key = randomBytes(MIN_BYTES);
  const temporary = join(directory, `.${basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(`${key.toString('base64url')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temporary, file);
    return key;
  } catch (error) {
    // The link found the file: another process created it first, use that one (complete: it
    // was linked after its sync).
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readNonceKey(file);
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}
