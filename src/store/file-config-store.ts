/**
 * The configuration as one JSON file in the prefix directory, replaced atomically:
 *
 *   write <file>.tmp-<pid>-<n>, fsync it  ─►  hard-link the current file to <file>.bak
 *   ─►  rename the temporary file over <file>  ─►  fsync the directory
 *
 * rename(2) is atomic, so a crash or `kill -9` at any moment leaves the old or the new file under
 * the name, never a mix; the fsyncs make "saved" mean "on disk". A temporary file left by a crash is
 * removed on the next load. The file carries a format marker and a SHA-256 of its document, so a
 * file damaged later (by hand, by a disk) is refused rather than half-read; `load` then falls back to
 * `<file>.bak`, the previous good configuration, and says so through `warn`.
 */
import { createHash } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { canonicalJson } from '../config/hash.js';
import type { DeckDocument } from '../config/export.js';
import { CorruptConfigError, type ConfigStore, type StoredConfig } from './config-store.js';

/** Marks the file layout; a future layout bumps it and converts on load. */
export const FILE_FORMAT = 'portcullis-config/1';

interface FileShape {
  format: string;
  configuration_hash: string;
  saved_at: string;
  document_sha256: string;
  document: DeckDocument;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses and checks one stored file; throws CorruptConfigError naming what is wrong. */
export function parseStoredFile(text: string, file: string): StoredConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CorruptConfigError(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isRecord(parsed) || parsed.format !== FILE_FORMAT) throw new CorruptConfigError(`${file}: not a ${FILE_FORMAT} file`);
  const { document, configuration_hash: hash, saved_at: savedAt, document_sha256: digest } = parsed;
  if (!isRecord(document) || typeof hash !== 'string' || typeof savedAt !== 'string' || typeof digest !== 'string') {
    throw new CorruptConfigError(`${file}: missing document, configuration_hash, saved_at or document_sha256`);
  }
  if (sha256(canonicalJson(document)) !== digest) throw new CorruptConfigError(`${file}: the document does not match its checksum`);
  return { document, hash, savedAt };
}

export interface FileConfigStoreOptions {
  /** Told when the primary file was refused and the backup used instead. */
  readonly warn?: (message: string) => void;
}

export class FileConfigStore implements ConfigStore {
  readonly file: string;
  readonly #warn: (message: string) => void;
  #counter = 0;
  /**
   * What is known of the file under the primary name: `good` (loaded or written by this store),
   * `damaged` (`load` refused it and used the backup), `unknown` (not read yet: a start with
   * `--declarative-config` does not load). A damaged file never becomes the backup, so the backup
   * stays the last good configuration.
   */
  #primary: 'good' | 'damaged' | 'unknown' = 'unknown';

  /** Keeps the configuration in `<prefix>/config.json`. */
  constructor(prefix: string, options: FileConfigStoreOptions = {}) {
    this.file = join(prefix, 'config.json');
    this.#warn = options.warn ?? (() => undefined);
  }

  get backupFile(): string {
    return `${this.file}.bak`;
  }

  async load(): Promise<StoredConfig | null> {
    await this.#removeTemporaryFiles();
    const primary = await readIfExists(this.file);
    if (primary === null) return null;
    try {
      const stored = parseStoredFile(primary, this.file);
      this.#primary = 'good';
      return stored;
    } catch (error) {
      if (!(error instanceof CorruptConfigError)) throw error;
      const backup = await readIfExists(this.backupFile);
      if (backup === null) throw error;
      let stored: StoredConfig;
      try {
        stored = parseStoredFile(backup, this.backupFile);
      } catch (backupError) {
        throw new CorruptConfigError(`${error.message}; the backup is unusable too: ${(backupError as Error).message}`);
      }
      this.#warn(`${error.message}; using the previous configuration from ${this.backupFile} (saved ${stored.savedAt})`);
      this.#primary = 'damaged';
      return stored;
    }
  }

  async save(document: DeckDocument, hash: string): Promise<void> {
    const dir = dirname(this.file);
    await mkdir(dir, { recursive: true });
    const body: FileShape = {
      format: FILE_FORMAT,
      configuration_hash: hash,
      saved_at: new Date().toISOString(),
      document_sha256: sha256(canonicalJson(document)),
      document,
    };
    const temporary = `${this.file}.tmp-${process.pid}-${++this.#counter}`;
    try {
      await writeDurably(temporary, `${JSON.stringify(body, null, 2)}\n`);
      await this.#keepBackup();
      await rename(temporary, this.file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    this.#primary = 'good';
    await syncDirectory(dir);
  }

  /**
   * The current file becomes the backup; a hard link costs no copy and is never half-written. Not
   * when the current file is damaged: the backup then stays the last good configuration.
   */
  async #keepBackup(): Promise<void> {
    if (this.#primary === 'unknown') {
      const current = await readIfExists(this.file);
      if (current === null) return; // first save
      this.#primary = isIntact(current, this.file) ? 'good' : 'damaged';
    }
    if (this.#primary === 'damaged') return;
    const staging = `${this.backupFile}.tmp-${process.pid}`;
    await rm(staging, { force: true });
    try {
      await link(this.file, staging);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // first save
      throw error;
    }
    await rename(staging, this.backupFile);
  }

  async #removeTemporaryFiles(): Promise<void> {
    const dir = dirname(this.file);
    const prefixes = [`${basename(this.file)}.tmp-`, `${basename(this.backupFile)}.tmp-`];
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    await Promise.all(names.filter((n) => prefixes.some((p) => n.startsWith(p))).map((n) => rm(join(dir, n), { force: true })));
  }
}

function isIntact(text: string, file: string): boolean {
  try {
    parseStoredFile(text, file);
    return true;
  } catch (error) {
    if (error instanceof CorruptConfigError) return false;
    throw error;
  }
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes the rename itself durable; some platforms cannot open a directory, which is harmless there. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM on platforms without directory fsync: the rename is still atomic.
  } finally {
    await handle?.close();
  }
}
