/**
 * Kong's transform_json_body and transform_url_encoded_body: the body re-encoded when an operation
 * ran, or null when it is left as it is (a JSON body that does not parse, or holds no object).
 */
import { decodeParams, encodeParams, type ParamValue, type Params } from './params.js';
import type { TemplateInput } from './template.js';
import { applyOperations, type Operations, type Values } from './transform.js';

/** How a body is transformed: Kong's content types (matched as substrings of Content-Type, as Kong does). */
export type TransformedBody = 'json' | 'form' | 'multipart';

export function transformedBodyKind(contentType: string | string[] | undefined): TransformedBody | null {
  const type = (Array.isArray(contentType) ? contentType[0] : contentType)?.toLowerCase();
  if (type === undefined) return null;
  if (type.includes('application/json')) return 'json';
  if (type.includes('multipart/form-data')) return 'multipart';
  if (type.includes('application/x-www-form-urlencoded')) return 'form';
  return null;
}

/** Params as operations see them (a form has no false: every stored value is present). */
export function paramValues(params: Params): Values {
  return {
    present: (name) => params.has(name),
    get: (name) => params.get(name),
    set: (name, value) => params.set(name, value as ParamValue),
    delete: (name) => params.delete(name),
  };
}

export function transformFormBody(body: Buffer, ops: Operations, input: TemplateInput): Buffer | null {
  const params = decodeParams(body.toString('utf8'));
  const ran = applyOperations(paramValues(params), ops, input, { existing: body.length > 0 });
  return ran ? Buffer.from(encodeParams(params), 'ascii') : null;
}

export function transformJsonBody(body: Buffer, ops: Operations, input: TemplateInput): Buffer | null {
  let object: Record<string, unknown>;
  if (body.length === 0) object = {};
  else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return null;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    object = parsed as Record<string, unknown>;
  }
  const values: Values = {
    // Lua truthiness: a JSON false is "absent" to Kong (replace skips it, add overwrites it).
    present: (name) => Object.hasOwn(object, name) && object[name] !== false,
    get: (name) => (Object.hasOwn(object, name) ? object[name] : undefined),
    set: (name, value) => {
      object[name] = value;
    },
    delete: (name) => {
      delete object[name];
    },
  };
  const ran = applyOperations(values, ops, input, { existing: body.length > 0 });
  return ran ? Buffer.from(JSON.stringify(object), 'utf8') : null;
}
