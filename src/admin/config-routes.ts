/**
 * The whole configuration at once, DB-less style:
 *
 *   GET  /config    the live configuration as decK YAML (JSON with `Accept: application/json`),
 *                   `ETag` = its hash; `?references=id` writes references by id, and certificate keys
 *                   are included only with `?include_private_keys=true`.
 *   POST /config    replaces it with the body (decK YAML or JSON, or Kong's `{"config": "<yaml>"}`);
 *                   `If-Match: <hash>` refuses (412) if the configuration changed since it was read,
 *                   which `portcullis apply`/`sync` use so that two of them never overwrite each other;
 *                   Kong's `?check_hash=1` (304 when nothing changes) and `?flatten_errors=1`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { configHash } from '../config/index.js';
import { exportConfig } from '../config/export.js';
import { toDeckYaml } from '../config/export-yaml.js';
import { parseConfigText } from '../config/parse.js';
import type { Config } from '../config/types.js';
import type { ConfigManager } from '../store/config-manager.js';
import { AdminError, summarise } from './admin-error.js';
import { flattenErrors } from './flattened-errors.js';

export interface ConfigAnswer {
  readonly status: number;
  readonly body?: unknown;
  /** A text body with its content type, instead of JSON. */
  readonly text?: { contentType: string; body: string };
  readonly headers?: Record<string, string>;
}

function wantsJson(headers: IncomingHttpHeaders): boolean {
  return /application\/json/i.test(headers.accept ?? '');
}

/** `"abc"`, `W/"abc"` or `abc` → `abc`. */
function entityTag(value: string): string {
  return value.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

export function getConfig(config: Config, query: URLSearchParams, headers: IncomingHttpHeaders): ConfigAnswer {
  const references = query.get('references') === 'id' ? 'id' : 'name';
  const document = exportConfig(config, { references, privateKeys: query.get('include_private_keys') === 'true' });
  const etag = { etag: `"${configHash(config)}"` };
  if (wantsJson(headers)) return { status: 200, body: document, headers: etag };
  return { status: 200, text: { contentType: 'application/yaml; charset=utf-8', body: toDeckYaml(document) }, headers: etag };
}

/** Kong's DB-less `{"config": "<yaml text>"}` body, or the document itself. */
function documentOf(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 1 && typeof (body as { config?: unknown }).config === 'string') {
    const parsed = parseConfigText((body as { config: string }).config);
    if (!parsed.ok) throw new AdminError('invalid body', `config is not valid YAML: ${parsed.errors.map((e) => `${e.path} ${e.message}`.trim()).join('; ')}`);
    return parsed.value;
  }
  return body;
}

/**
 * Kong's query flags: `check_hash=1` answers 304 when the configuration is already the one sent, and
 * `flatten_errors=1` adds `flattened_errors` to a refusal (both used by the Kong Ingress Controller).
 */
export async function postConfig(manager: ConfigManager, body: unknown, headers: IncomingHttpHeaders, query: URLSearchParams): Promise<ConfigAnswer> {
  const document = documentOf(body);
  const flag = (name: string): boolean => ['1', 'true', 'on', 'yes'].includes((query.get(name) ?? '').toLowerCase());
  const ifMatch = headers['if-match'];
  const result = await manager.change((_doc, current) => {
    if (ifMatch !== undefined && ifMatch.trim() !== '*' && entityTag(ifMatch) !== configHash(current)) {
      throw new AdminError('precondition failed', 'the configuration changed since it was read (If-Match does not match); read it again and retry');
    }
    return { value: null, replacement: document };
  });
  if (!result.ok) {
    throw new AdminError('invalid declarative configuration', summarise('declarative config is invalid', result.errors), {
      errors: result.errors,
      ...(flag('flatten_errors') ? { extra: { flattened_errors: flattenErrors(document, result.errors) } } : {}),
    });
  }
  const hash = configHash(result.config);
  if (flag('check_hash') && !result.changed) return { status: 304, headers: { etag: `"${hash}"` } };
  return { status: 201, body: { configuration_hash: hash, changed: result.changed }, headers: { etag: `"${hash}"` } };
}
