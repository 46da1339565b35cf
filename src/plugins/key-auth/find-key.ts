/**
 * Where key-auth looks for a key (Kong's order: for each of `key_names`, the header, then the query
 * string, then the body) and how it takes the key out of the upstream request (`hide_credentials`).
 */
import type { RequestContext } from '../../pipeline/context.js';
import type { KeyAuthConfig } from './schema.js';

export type KeyLookup =
  | { readonly found: 'key'; readonly key: string; readonly name: string }
  | { readonly found: 'duplicate' }
  | { readonly found: 'none' };

/** A body read as fields: form or JSON object (multipart is not read: Kong-specific, rare for keys). */
type BodyFields = { readonly kind: 'form'; readonly fields: URLSearchParams } | { readonly kind: 'json'; readonly fields: Record<string, unknown> } | null;

async function readBodyFields(ctx: RequestContext): Promise<BodyFields> {
  const type = String(ctx.request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded' && type !== 'application/json' && !type.endsWith('+json')) return null;
  const text = (await ctx.readBody()).toString('utf8');
  if (type === 'application/x-www-form-urlencoded') return { kind: 'form', fields: new URLSearchParams(text) };
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { kind: 'json', fields: parsed as Record<string, unknown> } : null;
  } catch {
    return null;
  }
}

/** The body's values of `name`: a form's repeated fields, a JSON string or array of strings (two or more: a duplicate). */
function bodyValues(body: BodyFields, name: string): string[] {
  if (body === null) return [];
  if (body.kind === 'form') return body.fields.getAll(name);
  const value = body.fields[name];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The query-string parameters named `name`, decoded as URLSearchParams decodes them. */
function queryValues(query: string, name: string): string[] {
  return query === '' ? [] : new URLSearchParams(query).getAll(name);
}

/** `query` without the parameters named `name`; the other pairs stay byte for byte. */
export function withoutQueryParameter(query: string, name: string): string {
  return query
    .split('&')
    .filter((pair) => {
      const rawName = pair.split('=', 1)[0] ?? '';
      try {
        return decodeURIComponent(rawName.replace(/\+/g, ' ')) !== name;
      } catch {
        return true;
      }
    })
    .join('&');
}

/** Finds the key of the request; with `hide_credentials`, removes it from where it was found. */
export async function lookUpKey(ctx: RequestContext, config: KeyAuthConfig): Promise<KeyLookup> {
  let body: BodyFields | undefined;
  for (const name of config.key_names) {
    let values: readonly string[] = [];
    if (config.key_in_header) {
      const header = ctx.request.headers[name.toLowerCase()];
      if (header !== undefined) values = Array.isArray(header) ? header : [header];
    }
    if (values.length === 0 && config.key_in_query) values = queryValues(ctx.request.query, name);
    if (values.length === 0 && config.key_in_body) {
      body ??= await readBodyFields(ctx);
      values = bodyValues(body, name);
    }
    if (values.length > 1) return { found: 'duplicate' };
    const key = values[0];
    if (key === undefined) continue;
    if (config.hide_credentials) hideKey(ctx, name, config, body ?? null);
    return { found: 'key', key, name };
  }
  return { found: 'none' };
}

function hideKey(ctx: RequestContext, name: string, config: KeyAuthConfig, body: BodyFields): void {
  delete ctx.upstreamHeaders[name.toLowerCase()];
  ctx.upstreamQuery = withoutQueryParameter(ctx.upstreamQuery, name);
  if (!config.key_in_body || body === null) return;
  if (body.kind === 'form') {
    body.fields.delete(name);
    ctx.upstreamBody = Buffer.from(body.fields.toString());
  } else {
    const { [name]: _key, ...rest } = body.fields;
    ctx.upstreamBody = Buffer.from(JSON.stringify(rest));
  }
}
