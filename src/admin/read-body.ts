/**
 * Reads and parses an admin request body: JSON, YAML (one document, the decK parser) or
 * `application/x-www-form-urlencoded` (what `curl -d name=x` sends, as Kong accepts). Too large,
 * unparsable or of another type is a clear 4xx, never a 500.
 */
import type { IncomingMessage } from 'node:http';
import { parseConfigText } from '../config/parse.js';
import { AdminError } from './admin-error.js';
import { parseForm } from './form-body.js';

const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);

/** The body's bytes, refusing more than `limit` (by Content-Length up front, else while reading). */
export async function readBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): AdminError =>
    new AdminError('body too large', `request body is larger than ${limit} bytes`, { headers: { connection: 'close' } });
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The media type without parameters, lower-cased; '' when absent. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Parses the body by its content type; an empty body is `{}`. */
export async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const bytes = await readBytes(req, limit);
  const text = bytes.toString('utf8');
  if (text.trim() === '') return {};
  const type = mediaType(req);
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new AdminError('invalid body', `request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (YAML_TYPES.has(type)) {
    const parsed = parseConfigText(text);
    if (!parsed.ok) throw new AdminError('invalid body', `request body is not valid YAML: ${parsed.errors.map((e) => `${e.path} ${e.message}`.trim()).join('; ')}`);
    return parsed.value;
  }
  if (type === 'application/x-www-form-urlencoded') return parseForm(text);
  const given = type === '' ? 'no Content-Type' : `Content-Type '${type}'`;
  throw new AdminError('unsupported media type', `${given}: send application/json, application/yaml or application/x-www-form-urlencoded`);
}
