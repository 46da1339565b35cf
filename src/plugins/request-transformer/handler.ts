import type { RequestContext } from '../../pipeline/context.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { transformedBodyKind, transformFormBody, transformJsonBody, paramValues } from './body.js';
import { compileEntry } from './entries.js';
import { transformHeaders } from './headers.js';
import { appendValue, decodeParams, encodeParams } from './params.js';
import type { RequestTransformerConfig } from './schema.js';
import { requestTransformerSchema } from './schema.js';
import { compileTemplate, renderTemplate, type Template, type TemplateInput } from './template.js';
import { applyOperations, hasOperations, type Operations } from './transform.js';

type Field = 'body' | 'headers' | 'querystring';

function operationsOf(config: RequestTransformerConfig, field: Field): Operations {
  return {
    remove: config.remove[field].map(compileEntry),
    rename: config.rename[field].map(compileEntry),
    replace: config.replace[field].map(compileEntry),
    add: config.add[field].map(compileEntry),
    append: config.append[field].map(compileEntry),
  };
}

/** What templates read: the client's request as it arrived (Kong's template environment). */
function templateInput(ctx: RequestContext): TemplateInput {
  let query: URLSearchParams | null = null;
  return {
    headers: ctx.request.headers,
    get query() {
      return (query ??= new URLSearchParams(ctx.request.query));
    },
  };
}

/** Characters a path may carry as they are (RFC 3986 pchar, `/`, and `%` of an escape already made). */
const pathSafe = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu;

function encodePath(path: string): string {
  return path.replace(pathSafe, (c) => encodeURIComponent(c));
}

/** Whether the body may be rewritten: Kong's content types, and bytes that are not compressed. */
function transformableBody(ctx: RequestContext): 'json' | 'form' | null {
  const encoding = ctx.upstreamHeaders['content-encoding'];
  if (encoding !== undefined && String(encoding).trim().toLowerCase() !== 'identity') return null;
  const kind = transformedBodyKind(ctx.upstreamHeaders['content-type']);
  // multipart/form-data is passed through untouched (docs/plugins/request-transformer.md).
  return kind === 'multipart' ? null : kind;
}

/**
 * Kong's request-transformer (priority 801), in Kong's order: the URI (`replace.uri`), the method
 * (a form body moved into the query string for GET, HEAD and TRACE), the headers, the body (JSON
 * and form-encoded, read only when a body operation is configured and the content type is one of
 * those), then the query string. Each list runs remove → rename → replace → add → append.
 */
export const requestTransformer: PluginDefinition<RequestTransformerConfig> = {
  schema: requestTransformerSchema,
  priority: 801,
  create(config) {
    const headerOps = operationsOf(config, 'headers');
    const bodyOps = operationsOf(config, 'body');
    const queryOps = operationsOf(config, 'querystring');
    const transformsHeaders = hasOperations(headerOps);
    const transformsBody = hasOperations(bodyOps);
    const transformsQuery = hasOperations(queryOps);
    const method = config.http_method ?? null;
    const movesFormToQuery = method === 'GET' || method === 'HEAD' || method === 'TRACE';
    let uri: Template | null = null;
    if (config.replace.uri != null) {
      const compiled = compileTemplate(config.replace.uri);
      if ('error' in compiled) throw new TypeError(compiled.error);
      uri = compiled;
    }

    const moveFormToQuery = async (ctx: RequestContext): Promise<void> => {
      await ctx.readBody();
      const form = decodeParams((ctx.upstreamBody ?? Buffer.alloc(0)).toString('utf8'));
      if (form.size === 0) return;
      const query = decodeParams(ctx.upstreamQuery);
      for (const [name, value] of form) {
        const seen = query.get(name);
        query.set(name, seen === undefined ? value : (appendValue(seen, value) as typeof seen));
      }
      ctx.upstreamQuery = encodeParams(query);
    };

    const transformBody = async (ctx: RequestContext, input: TemplateInput): Promise<void> => {
      const kind = transformableBody(ctx);
      if (kind === null) return;
      await ctx.readBody();
      // The bytes as earlier plugins left them (key-auth may have taken its key out).
      const body = ctx.upstreamBody ?? Buffer.alloc(0);
      const transformed = kind === 'json' ? transformJsonBody(body, bodyOps, input) : transformFormBody(body, bodyOps, input);
      // The proxy sends a buffered body with its own Content-Length.
      if (transformed !== null) ctx.upstreamBody = transformed;
    };

    const transformQuery = (ctx: RequestContext, input: TemplateInput): void => {
      if (!transformsQuery) return;
      const query = decodeParams(ctx.upstreamQuery);
      applyOperations(paramValues(query), queryOps, input);
      ctx.upstreamQuery = encodeParams(query);
    };

    // Headers, body, query string; a promise only when a body must be read.
    const afterMethod = (ctx: RequestContext, input: TemplateInput): Promise<void> | undefined => {
      if (transformsHeaders) transformHeaders(ctx.upstreamHeaders, headerOps, input);
      if (transformsBody && transformableBody(ctx) !== null) return transformBody(ctx, input).then(() => transformQuery(ctx, input));
      transformQuery(ctx, input);
      return undefined;
    };

    return {
      access(ctx) {
        const input = templateInput(ctx);
        if (uri !== null) {
          const path = renderTemplate(uri, input);
          // Kong's set_path refuses a path that is not absolute (a 500 there too).
          if (!path.startsWith('/')) throw new Error('request-transformer: replace.uri rendered a path that does not start with /');
          ctx.upstreamPath = encodePath(path);
        }
        if (method !== null) {
          ctx.upstreamMethod = method;
          if (movesFormToQuery && transformedBodyKind(ctx.upstreamHeaders['content-type']) === 'form') return moveFormToQuery(ctx).then(() => afterMethod(ctx, input));
        }
        return afterMethod(ctx, input);
      },
    };
  },
};
