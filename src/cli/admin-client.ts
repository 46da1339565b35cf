/**
 * The CLI's side of the admin API, for `apply`, `sync` and `dump`. Every failure becomes one
 * `AdminClientError` whose message is a single readable line (`cannot reach the admin API at …`,
 * `admin API answered 401: …`); configuration errors keep their per-field lines.
 */
import { request } from 'undici';
import type { DeckDocument } from '../config/export.js';
import type { ConfigError } from '../config/types.js';

export class AdminClientError extends Error {
  override readonly name = 'AdminClientError';
  readonly status: number | null;
  readonly errors: readonly ConfigError[];

  constructor(message: string, status: number | null = null, errors: readonly ConfigError[] = []) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

export interface AdminClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8001. */
  readonly url: string;
  readonly token: string | null;
  /** Per-request timeout, ms (default 30 s). */
  readonly timeoutMs?: number;
}

export interface LiveConfig {
  readonly document: DeckDocument;
  /** The ETag to send back with If-Match. */
  readonly hash: string;
}

function describeNetworkError(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const message = e.cause?.message ?? e.message ?? String(error);
  return code !== undefined && !message.includes(code) ? `${code} ${message}` : message;
}

function messageOf(status: number, text: string): { message: string; errors: ConfigError[] } {
  try {
    const body = JSON.parse(text) as { message?: unknown; errors?: unknown };
    const errors = Array.isArray(body.errors) ? (body.errors as ConfigError[]) : [];
    return { message: `admin API answered ${status}: ${typeof body.message === 'string' ? body.message : text.slice(0, 200)}`, errors };
  } catch {
    return { message: `admin API answered ${status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`, errors: [] };
  }
}

export class AdminClient {
  readonly #base: URL;
  readonly #token: string | null;
  readonly #timeout: number;

  constructor(options: AdminClientOptions) {
    if (!URL.canParse(options.url)) throw new TypeError(`--admin-url: '${options.url}' is not a URL`);
    this.#base = new URL(options.url);
    this.#token = options.token;
    this.#timeout = options.timeoutMs ?? 30_000;
  }

  async #send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
    const url = new URL(path, this.#base);
    if (this.#token !== null) headers.authorization = `Bearer ${this.#token}`;
    try {
      const res = await request(url, { method, headers, body, headersTimeout: this.#timeout, bodyTimeout: this.#timeout });
      const text = await res.body.text();
      if (res.statusCode >= 400) {
        const { message, errors } = messageOf(res.statusCode, text);
        throw new AdminClientError(message, res.statusCode, errors);
      }
      return { status: res.statusCode, headers: res.headers, text };
    } catch (error) {
      if (error instanceof AdminClientError) throw error;
      throw new AdminClientError(`cannot reach the admin API at ${this.#base.origin}: ${describeNetworkError(error)}`);
    }
  }

  /** The live configuration, references by id and keys included (what apply and sync merge into). */
  async getConfig(): Promise<LiveConfig> {
    const res = await this.#send('GET', '/config?references=id&include_private_keys=true', { accept: 'application/json' });
    const etag = typeof res.headers.etag === 'string' ? res.headers.etag : '';
    return { document: JSON.parse(res.text) as DeckDocument, hash: etag.replace(/^"|"$/g, '') };
  }

  /** The live configuration as decK YAML, references by name, keys included. */
  async getConfigYaml(): Promise<string> {
    return (await this.#send('GET', '/config?include_private_keys=true', { accept: 'application/yaml' })).text;
  }

  /** Replaces the configuration, unless it is no longer the one with hash `ifMatch` (then 412). */
  async postConfig(document: DeckDocument, ifMatch: string): Promise<{ configuration_hash: string; changed: boolean }> {
    const res = await this.#send('POST', '/config', { 'content-type': 'application/json', 'if-match': `"${ifMatch}"` }, JSON.stringify(document));
    return JSON.parse(res.text) as { configuration_hash: string; changed: boolean };
  }
}
