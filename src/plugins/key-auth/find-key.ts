/**
 * Where key-auth looks for a key (Kong's order: for each of `key_names`, the header, then the query
 * string, then the body) and how it takes the key out of the upstream request (`hide_credentials`).
 */
import { bodyFieldsFormat, jsonMember, withoutBodyField, withoutParameter, type BodyFormat } from '../../pipeline/body-fields.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { KeyAuthConfig } from './schema.js';

export type KeyLookup =
  | { readonly found: 'key'; readonly key: string; readonly name: string }
  | { readonly found: 'duplicate' }
  | { readonly found: 'none' };

/** A body that may hold keys: a form or a JSON object (multipart is not read: rare for keys). */
interface FieldsBody {
  readonly format: BodyFormat;
  readonly bytes: Buffer;
}

async function readFieldsBody(ctx: RequestContext): Promise<FieldsBody | null> {
  const format = bodyFieldsFormat(ctx.request.headers);
  return format === null ? null : { format, bytes: await ctx.readBody() };
}

/** The body's values of `name`: a form's repeated fields, a JSON string or array of strings (two or more: a duplicate). */
function bodyValues(body: FieldsBody | null, name: string): string[] {
  if (body === null) return [];
  if (body.format === 'form') return new URLSearchParams(body.bytes.toString('utf8')).getAll(name);
  const value = jsonMember(body.bytes, name);
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The query-string parameters named `name`, decoded as URLSearchParams decodes them. */
function queryValues(query: string, name: string): string[] {
  return query === '' ? [] : new URLSearchParams(query).getAll(name);
}

function headerValues(ctx: RequestContext, name: string): readonly string[] {
  const header = ctx.request.headers[name.toLowerCase()];
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [header];
}

/** Finds the key of the request, and the body it read to look (so the key can be taken out of it). */
export async function lookUpKey(ctx: RequestContext, config: KeyAuthConfig): Promise<KeyLookup> {
  let body: FieldsBody | null | undefined;
  for (const name of config.key_names) {
    let values: readonly string[] = config.key_in_header ? headerValues(ctx, name) : [];
    if (values.length === 0 && config.key_in_query) values = queryValues(ctx.request.query, name);
    if (values.length === 0 && config.key_in_body) {
      body ??= await readFieldsBody(ctx);
      values = bodyValues(body, name);
    }
    if (values.length > 1) return { found: 'duplicate' };
    const key = values[0];
    if (key !== undefined) return { found: 'key', key, name };
  }
  return { found: 'none' };
}

/**
 * Takes the key named `name` out of the upstream request: header, query string, and (when the
 * plugin reads bodies) the body, whichever of them carried it.
 */
export function hideKey(ctx: RequestContext, name: string, config: KeyAuthConfig): void {
  delete ctx.upstreamHeaders[name.toLowerCase()];
  ctx.upstreamQuery = withoutParameter(ctx.upstreamQuery, name);
  if (!config.key_in_body) return;
  const format = bodyFieldsFormat(ctx.request.headers);
  const body = ctx.upstreamBody;
  if (format !== null && body !== null) ctx.upstreamBody = withoutBodyField(body, format, name);
}
