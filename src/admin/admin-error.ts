/**
 * Every error the admin API answers, as a value with a status, a stable numeric `code` and a `name`.
 * Codes 1–20 are Kong's (`kong/db/errors.lua`), so tools written for Kong read them unchanged; codes
 * from 100 are Portcullis's own. The README lists them all; `admin-error.test.ts` fails when one is
 * missing there.
 */
import type { ConfigError } from '../config/types.js';

export const ERROR_CODES = {
  'schema violation': { code: 2, status: 400 },
  'foreign key violation': { code: 4, status: 400 },
  'unique constraint violation': { code: 5, status: 409 },
  'not found': { code: 6, status: 404 },
  'invalid offset': { code: 7, status: 400 },
  'invalid size': { code: 9, status: 400 },
  'invalid options': { code: 11, status: 400 },
  'invalid declarative configuration': { code: 14, status: 400 },
  unauthorized: { code: 101, status: 401 },
  'invalid body': { code: 102, status: 400 },
  'body too large': { code: 103, status: 413 },
  'unsupported media type': { code: 104, status: 415 },
  'method not allowed': { code: 105, status: 405 },
  'precondition failed': { code: 106, status: 412 },
  'internal error': { code: 107, status: 500 },
  'database unavailable': { code: 108, status: 503 },
} as const satisfies Record<string, { code: number; status: number }>;

export type ErrorName = keyof typeof ERROR_CODES;

/** Field path → message(s), nested the way the document is: `{ "config": { "minute": "…" } }`. */
export type ErrorFields = Record<string, unknown>;

export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly kind: ErrorName;
  readonly status: number;
  readonly code: number;
  readonly fields: ErrorFields | undefined;
  readonly errors: readonly ConfigError[] | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** More members of the body (`flattened_errors`). */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(kind: ErrorName, message: string, extra: { errors?: readonly ConfigError[]; headers?: Record<string, string>; extra?: Record<string, unknown> } = {}) {
    super(message);
    this.kind = kind;
    this.status = ERROR_CODES[kind].status;
    this.code = ERROR_CODES[kind].code;
    this.errors = extra.errors;
    this.fields = extra.errors === undefined ? undefined : fieldsOf(extra.errors);
    this.headers = extra.headers ?? {};
    this.extra = extra.extra ?? {};
  }

  /** The JSON body, Kong's shape plus the flat `errors` list for tools that prefer paths. */
  toBody(requestId: string): Record<string, unknown> {
    return {
      code: this.code,
      name: this.kind,
      message: this.message,
      ...(this.fields === undefined ? {} : { fields: this.fields }),
      ...(this.errors === undefined ? {} : { errors: this.errors }),
      ...this.extra,
      ...(this.status >= 500 ? { request_id: requestId } : {}),
    };
  }
}

/** `services[0].routes[1].paths[0]` → ['services', 0, 'routes', 1, 'paths', 0]; `["x-h"]` keys unquoted. */
export function pathSegments(path: string): Array<string | number> {
  const segments: Array<string | number> = [];
  const pattern = /([A-Za-z_@][\w-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  for (const match of path.replace(/^\(root\)/, '').matchAll(pattern)) {
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else if (match[3] !== undefined) segments.push(JSON.parse(match[3]) as string);
  }
  return segments;
}

/**
 * Nests errors by path. Array indexes become object keys ("0") so that sparse errors stay small; a
 * message for a node that also has children goes under `@entity`, as Kong does for entity checks.
 */
export function fieldsOf(errors: readonly ConfigError[]): ErrorFields {
  const root: ErrorFields = {};
  for (const { path, message } of errors) {
    const segments = pathSegments(path).map(String);
    if (segments.length === 0) segments.push('@entity');
    let node = root;
    segments.forEach((segment, i) => {
      const last = i === segments.length - 1;
      const existing = node[segment];
      if (last) {
        if (typeof existing === 'object' && existing !== null) addEntityMessage(existing as ErrorFields, message);
        else node[segment] = typeof existing === 'string' ? `${existing}; ${message}` : message;
        return;
      }
      if (typeof existing === 'string') node[segment] = { '@entity': [existing] };
      else if (existing === undefined) node[segment] = {};
      node = node[segment] as ErrorFields;
    });
  }
  return root;
}

function addEntityMessage(node: ErrorFields, message: string): void {
  const list = Array.isArray(node['@entity']) ? (node['@entity'] as string[]) : [];
  node['@entity'] = [...list, message];
}

/** The errors whose path is inside `prefix` (`services[3]`), re-rooted at it; others unchanged. */
export function relativeTo(errors: readonly ConfigError[], prefix: string): ConfigError[] {
  return errors.map((e) => {
    if (e.path === prefix) return { path: '', message: e.message };
    if (e.path.startsWith(`${prefix}.`)) return { path: e.path.slice(prefix.length + 1), message: e.message };
    if (e.path.startsWith(`${prefix}[`)) return { path: `(root)${e.path.slice(prefix.length)}`, message: e.message };
    return e;
  });
}

/** `schema violation (name: must be …; retries: …)`, as Kong words its messages. */
export function summarise(kind: string, errors: readonly ConfigError[]): string {
  const shown = errors.slice(0, 5).map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`));
  const more = errors.length > 5 ? `; and ${errors.length - 5} more` : '';
  return `${kind} (${shown.join('; ')}${more})`;
}
