/**
 * Where key-auth looks for a key (Kong's order: for each of `key_names`, the header, then the query
 * string, then the body) and how it takes the key out of the upstream request (`hide_credentials`).
 */
import { bodyFieldsFormat, jsonObject, withoutBodyField, withoutParameter } from '../../pipeline/body-fields.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { KeyAuthConfig } from './schema.js';

export type KeyLookup =
  | { readonly found: 'key'; readonly key: string; readonly name: string }
  | { readonly found: 'duplicate' }
  | { readonly found: 'none' };

/** The values of a field of the body: a form's repeated fields, a JSON string or array of strings (two or more: a duplicate). */
type BodyValues = (name: string) => readonly string[];

const NO_VALUES: BodyValues = () => [];

/** The fields of a form or JSON object body, parsed once for all of `key_names` (multipart is not read: rare for keys). */
async function readBodyValues(ctx: RequestContext): Promise<BodyValues> {
  const format = bodyFieldsFormat(ctx.request.headers);
  if (format === null) return NO_VALUES;
  const bytes = await ctx.readBody();
  if (format === 'form') {
    const form = new URLSearchParams(bytes.toString('utf8'));
    return (name) => form.getAll(name);
  }
  const json = jsonObject(bytes);
  if (json === null) return NO_VALUES;
  return (name) => {
    const value = Object.hasOwn(json, name) ? json[name] : undefined;
    if (typeof value === 'string') return [value];
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  };
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

/**
 * Finds the key of the request and the name it was found under. Synchronous unless the body must
 * be read (`key_in_body`): a key in a header costs no promise.
 */
export function lookUpKey(ctx: RequestContext, config: KeyAuthConfig): KeyLookup | Promise<KeyLookup> {
  if (!config.key_in_body) return lookUpIn(ctx, config, NO_VALUES);
  return readBodyValues(ctx).then((body) => lookUpIn(ctx, config, body));
}

function lookUpIn(ctx: RequestContext, config: KeyAuthConfig, body: BodyValues): KeyLookup {
  for (const name of config.key_names) {
    let values: readonly string[] = config.key_in_header ? headerValues(ctx, name) : [];
    if (values.length === 0 && config.key_in_query) values = queryValues(ctx.request.query, name);
    if (values.length === 0) values = body(name);
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
