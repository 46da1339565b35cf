/**
 * Named fields of a request that plugins read credentials from and take them out of (openid-connect's
 * `access_token`, key-auth's key): which body can hold them, a member of a JSON body, and removing
 * one from a query string or a body without touching the rest. A form parameter is removed without
 * re-encoding the others: URLSearchParams would rewrite `%20` as `+`, reorder nothing but still
 * change bytes an upstream may sign or compare.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** How a body holding named fields is encoded. */
export type BodyFormat = 'form' | 'json';

/**
 * The format of a body that may hold named fields (a form, or JSON), or null when there is no
 * body, another media type, or a Content-Encoding (compressed bytes are not searched, and could not
 * be rewritten to remove a field).
 */
export function bodyFieldsFormat(headers: IncomingHttpHeaders): BodyFormat | null {
  const type = headers['content-type'];
  if (type === undefined) return null;
  if (headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0')) return null;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return null;
  const semicolon = type.indexOf(';');
  const media = (semicolon === -1 ? type : type.slice(0, semicolon)).trim().toLowerCase();
  if (media === 'application/x-www-form-urlencoded') return 'form';
  if (media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'))) return 'json';
  return null;
}

/** A top-level member of a JSON object body; undefined when the body does not parse, is no object, or lacks it. */
export function jsonMember(body: Buffer, name: string): unknown {
  const parsed = jsonObject(body);
  return parsed === null || !Object.hasOwn(parsed, name) ? undefined : parsed[name];
}

/** The JSON body without one top-level member, re-serialised; unchanged when it does not parse or lacks it. */
export function withoutJsonMember(body: Buffer, name: string): Buffer {
  const parsed = jsonObject(body);
  if (parsed === null || !Object.hasOwn(parsed, name)) return body;
  const rest: Record<string, unknown> = { ...parsed };
  delete rest[name];
  return Buffer.from(JSON.stringify(rest), 'utf8');
}

/** The form or JSON body without the field `name` (a form keeps the other pairs' bytes). */
export function withoutBodyField(body: Buffer, format: BodyFormat, name: string): Buffer {
  return format === 'json' ? withoutJsonMember(body, name) : Buffer.from(withoutParameter(body.toString('latin1'), name), 'latin1');
}

/** The body as a JSON object, or null when it does not parse or is no object. */
export function jsonObject(body: Buffer): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
}

/** `encoded` without every `name=…` pair (names compared after form-decoding, as URLSearchParams reads them). */
export function withoutParameter(encoded: string, name: string): string {
  if (encoded === '') return encoded;
  const kept = encoded.split('&').filter((pair) => decodedName(pair) !== name);
  return kept.join('&');
}

function decodedName(pair: string): string {
  const eq = pair.indexOf('=');
  const raw = (eq === -1 ? pair : pair.slice(0, eq)).replace(/\+/g, ' ');
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // URLSearchParams leaves broken escapes as they are; so does this.
    return raw;
  }
}
