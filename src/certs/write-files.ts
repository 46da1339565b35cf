// Writing a set of key and certificate files as one operation: nothing is written when any file
// already exists (unless forced), and secrets get mode 0600 even when they replace a laxer file.
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from '../util/private-file.js';

/** A file to write into the output directory. */
export interface OutputFile {
  /** A plain file name (no directory part). */
  name: string;
  data: string | Uint8Array;
  /** Private keys and key stores: written with mode 0600; everything else 0644. */
  secret: boolean;
}

/** The first of `names` that already exists in `dir` (as anything: file, directory, link), if any. */
export async function findExistingFile(dir: string, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    const path = join(dir, name);
    try {
      await lstat(path);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return undefined;
}

/** Thrown when a file to be written exists and overwriting was not asked for. */
export class FileExistsError extends Error {
  readonly code = 'ERR_CERTS_FILE_EXISTS';
  constructor(readonly path: string) {
    super(`${path} already exists; nothing was written (use --force to overwrite)`);
    this.name = 'FileExistsError';
  }
}

/**
 * Writes `files` into `dir` (created if missing). Without `force`, refuses with a FileExistsError
 * naming the first existing file before writing anything; with it, each file is replaced atomically
 * (written beside it, then renamed), so a replaced key never keeps the old file's permissions.
 */
export async function writeOutputFiles(dir: string, files: readonly OutputFile[], opts: { force: boolean }): Promise<string[]> {
  for (const file of files) {
    if (file.name.length === 0 || /[/\\]/.test(file.name) || file.name === '.' || file.name === '..') {
      throw new TypeError(`not a plain file name: ${file.name}`);
    }
  }
  await mkdir(dir, { recursive: true });
  if (!opts.force) {
    const existing = await findExistingFile(dir, files.map((f) => f.name));
    if (existing !== undefined) throw new FileExistsError(existing);
  }
  const written: string[] = [];
  for (const file of files) {
    const path = join(dir, file.name);
    const mode = file.secret ? 0o600 : 0o644;
    if (!opts.force) {
      // 'wx' also catches a file that appeared since the check above.
      await writeFile(path, file.data, { mode, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'EEXIST' ? new FileExistsError(path) : error;
      });
    } else {
      await replaceFile(path, file.data, mode);
    }
    written.push(path);
  }
  return written;
}
