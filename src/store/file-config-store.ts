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
import { appendFile, link, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { canonicalJson } from '../config/hash.js';
import type { DeckDocument } from '../config/export.js';
import { CorruptConfigError, type ConfigStore, type EntityChanges, type StoredConfig } from './config-store.js';
import { withDocumentChanges } from './document-changes.js';

/** Marks the file layout; a future layout bumps it and converts on load. */
export const FILE_FORMAT = 'portcullis-config/1';

/**
 * The journal `<file>.journal`: changes of a few entities appended after the file, so that a
 * change of one consumer among 100,000 does not rewrite them all. Its first line names the
 * file it follows (`base`: the SHA-256 of the file's text, which has its saved_at); each further line is one change with
 * the configuration hash it leads to. A journal that does not follow the file (the file was
 * replaced since) is ignored, and so is a last line cut short by a crash. It is not synced: the
 * file is what is durable; a journal line lost to a power cut is a change the node catches up on.
 * After `MAX_JOURNAL_LINES` changes the file is rewritten and the journal starts again.
 */
const JOURNAL_FORMAT = 'portcullis-config-journal/1';
const MAX_JOURNAL_LINES = 1000;

interface JournalLine {
  readonly hash: string;
  readonly saved_at: string;
  readonly changes: EntityChanges;
}

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
export function parseStoredFile(text: string, file: string): StoredConfig & { readonly digest: string } {
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
  return { document, hash, savedAt, digest };
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
  /** SHA-256 of the text of the file the journal follows (written or loaded by this store); null: unknown. */
  #base: string | null = null;
  #journalLines = 0;

  /** Keeps the configuration in `<prefix>/config.json`. */
  constructor(prefix: string, options: FileConfigStoreOptions = {}) {
    this.file = join(prefix, 'config.json');
    this.#warn = options.warn ?? (() => undefined);
  }

  get backupFile(): string {
    return `${this.file}.bak`;
  }

  get journalFile(): string {
    return `${this.file}.journal`;
  }

  async load(): Promise<StoredConfig | null> {
    await this.#removeTemporaryFiles();
    const primary = await readIfExists(this.file);
    if (primary === null) return null;
    let parsed: StoredConfig & { readonly digest: string };
    try {
      parsed = { ...parseStoredFile(primary, this.file), digest: sha256(primary) };
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
      this.#base = null;
      return stored;
    }
    this.#primary = 'good';
    return this.#withJournal(parsed);
  }

  /** The file's configuration with the journal's changes made, when the journal follows it (`digest`: of the file's text). */
  async #withJournal(stored: StoredConfig & { readonly digest: string }): Promise<StoredConfig> {
    this.#base = stored.digest;
    this.#journalLines = 0;
    const text = await readIfExists(this.journalFile);
    const lines = text === null ? [] : text.split('\n');
    const header = parseLine(lines[0] ?? '') as { format?: unknown; base?: unknown } | null;
    if (header?.format !== JOURNAL_FORMAT || header.base !== stored.digest) {
      // Not this file's journal: the next change starts a new one.
      this.#journalLines = -1;
      return { document: stored.document, hash: stored.hash, savedAt: stored.savedAt };
    }
    const changes: JournalLine[] = [];
    for (const line of lines.slice(1)) {
      const change = parseLine(line) as JournalLine | null;
      if (change === null || typeof change.hash !== 'string' || typeof change.changes !== 'object') break;
      changes.push(change);
    }
    this.#journalLines = changes.length;
    const lastChange = changes.at(-1);
    if (lastChange === undefined) return { document: stored.document, hash: stored.hash, savedAt: stored.savedAt };
    return { document: withDocumentChanges(stored.document, changes.map((c) => c.changes)), hash: lastChange.hash, savedAt: lastChange.saved_at };
  }

  /**
   * Appends `changes` to the journal (see JOURNAL_FORMAT); rewrites the file instead when there is
   * no file this store knows to follow, or when the journal is full.
   */
  async saveChanges(changes: EntityChanges, hash: string, document: () => DeckDocument): Promise<void> {
    if (this.#base === null) return this.save(document(), hash);
    if (this.#journalLines >= MAX_JOURNAL_LINES) {
      const current = await this.load();
      if (current === null || this.#base === null) return this.save(document(), hash);
      return this.save(withDocumentChanges(current.document, [changes]), hash);
    }
    let text = `${JSON.stringify({ hash, saved_at: new Date().toISOString(), changes } satisfies JournalLine)}\n`;
    // No journal yet, or one left from another file: a new one, named after the file it follows.
    if (this.#journalLines <= 0) {
      text = `${JSON.stringify({ format: JOURNAL_FORMAT, base: this.#base })}\n${text}`;
      await rm(this.journalFile, { force: true });
      this.#journalLines = 0;
    }
    await appendFile(this.journalFile, text, { mode: 0o600 });
    this.#journalLines++;
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
    // Until the new file is in place, the old journal would be read on top of the old file.
    this.#base = null;
    const temporary = `${this.file}.tmp-${process.pid}-${++this.#counter}`;
    const text = `${JSON.stringify(body, null, 2)}\n`;
    try {
      await writeDurably(temporary, text);
      await this.#keepBackup();
      await rename(temporary, this.file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    this.#primary = 'good';
    await syncDirectory(dir);
    // The journal followed the file just replaced: it is ignored from now on, and removed.
    await rm(this.journalFile, { force: true });
    this.#base = sha256(text);
    this.#journalLines = 0;
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

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
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
