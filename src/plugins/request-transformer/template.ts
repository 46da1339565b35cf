/**
 * Kong's request-transformer values are penlight templates evaluated as Lua (`$(headers.x)`).
 * Portcullis runs no Lua: it renders the plain lookups Kong documents, compiled once at config
 * load, and refuses every other expression there, naming it.
 *
 *   $(headers.name)  $(headers["name"])  $(headers['name'])      the client's request header
 *   $(query_params.name)  $(query_params["name"])                 the client's query parameter
 *   … or 'fallback' / … or "fallback"                             used when the value is missing
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Where a template looks a value up. */
export type TemplateSource = 'headers' | 'query_params';

type Part = string | { readonly source: TemplateSource; readonly key: string; readonly fallback: string | null };

/** A compiled value: literal text and lookups. */
export interface Template {
  readonly parts: readonly Part[];
  /** Whether it has no lookups (its text is the value). */
  readonly literal: boolean;
}

/** What a template reads: the client's headers and query parameters, as received. */
export interface TemplateInput {
  readonly headers: IncomingHttpHeaders;
  readonly query: URLSearchParams;
}

const name = String.raw`[A-Za-z_][A-Za-z0-9_]*`;
const quoted = String.raw`"([^"\\]*)"|'([^'\\]*)'`;
// source.key | source["key"] | source['key'], then an optional `or "fallback"`.
const lookup = new RegExp(String.raw`^\s*(headers|query_params)\s*(?:\.(${name})|\[\s*(?:${quoted})\s*\])\s*(?:or\s+(?:${quoted})\s*)?$`);

/** The template of `value`, or an error message naming what is not supported. */
export function compileTemplate(value: string): Template | { error: string } {
  const parts: Part[] = [];
  let rest = value;
  let literal = true;
  for (;;) {
    const start = rest.indexOf('$(');
    if (start === -1) break;
    const end = closingParen(rest, start + 2);
    if (end === -1) return { error: `value '${value}' is not in supported format, error: unbalanced '$('` };
    const expression = rest.slice(start + 2, end);
    const m = lookup.exec(expression);
    if (m === null) {
      return {
        error: `value '${value}' uses the template $(${expression}), which Portcullis does not render (no Lua): only $(headers.<name>) and $(query_params.<name>), with an optional or '<fallback>'`,
      };
    }
    if (start > 0) parts.push(rest.slice(0, start));
    const source = m[1] as TemplateSource;
    const key = m[2] ?? m[3] ?? m[4] ?? '';
    const fallback = m[5] ?? m[6] ?? null;
    parts.push({ source, key, fallback });
    literal = false;
    rest = rest.slice(end + 1);
  }
  if (rest !== '') parts.push(rest);
  return { parts, literal };
}

/** Index of the `)` closing the expression that starts at `from` (quotes and nested parentheses skipped), or -1. */
function closingParen(text: string, from: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/**
 * The rendered value. A missing value renders as its fallback, else as ''. A repeated header or
 * parameter renders its first value. Header names are looked up without case, and `_` stands for
 * `-` as in OpenResty's header table (`headers.x_api_version` reads X-Api-Version).
 */
export function renderTemplate(template: Template, input: TemplateInput): string {
  if (template.literal) return (template.parts[0] as string | undefined) ?? '';
  let out = '';
  for (const part of template.parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const found = part.source === 'headers' ? headerValue(input.headers, part.key) : input.query.get(part.key);
    out += found ?? part.fallback ?? '';
  }
  return out;
}

function headerValue(headers: IncomingHttpHeaders, key: string): string | null {
  const lower = key.toLowerCase();
  const value = headers[lower] ?? headers[lower.replace(/_/g, '-')];
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
