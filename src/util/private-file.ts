/**
 * Writing files that hold secrets (keys): a mode applies only when open() creates a file, so a
 * secret is never written into an existing file (which may be readable by others). It goes to a
 * new file beside its target — created exclusively, with its mode, synced — and that file is then
 * renamed over the target (replace) or hard-linked to it (create once). Either way the target
 * appears complete or not at all, and nothing is left behind when a step fails.
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** An unpredictable name beside `path`, so no other file can be there in its place. */
function temporaryBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
}

/** Creates `path` with `data` (EEXIST when it exists), synced; removed again if writing fails. */
export async function writeNewFile(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(path, { force: true });
    throw error;
  }
  await handle.close();
}

/** Replaces (or creates) `path` with `data` in one step: a new file with `mode`, renamed over it. */
export async function replaceFile(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temporary = temporaryBeside(path);
  await writeNewFile(temporary, data, mode);
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Creates `path` with `data` unless it exists; says whether this call created it. When two
 * processes race, exactly one creates it and the other finds a complete file (linked after its sync).
 */
export async function createFileOnce(path: string, data: string | Uint8Array, mode = 0o600): Promise<boolean> {
  const temporary = temporaryBeside(path);
  await writeNewFile(temporary, data, mode);
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}
