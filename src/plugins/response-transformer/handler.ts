import type { HeaderMap } from '../../pipeline/context.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { compileHeaderOperations, transformResponseHeaders } from './headers.js';
import { compileJsonOperations, transformJson } from './json-body.js';
import { responseTransformerSchema, type ResponseTransformerConfig } from './schema.js';

/** Kong's is_json_body: one of the comma-separated media types is exactly application/json (parameters aside). */
export function isJsonContentType(value: string | string[] | undefined): boolean {
  if (value === undefined) return false;
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.split(',').some((part) => {
    const media = part.split(';', 1)[0]!.trim().toLowerCase();
    return media === 'application/json';
  });
}

function compressed(headers: HeaderMap): boolean {
  const encoding = headers['content-encoding'];
  return encoding !== undefined && String(encoding).trim().toLowerCase() !== 'identity';
}

/**
 * Kong's response-transformer (priority 800). Header edits in header_filter. JSON edits only when
 * one is configured and the response is application/json: then (and only then) the body is
 * buffered, through `ctx.transformResponseBody`, and Content-Length is recomputed. A compressed
 * JSON response is left as it is, streamed (Kong fails to parse it and sends it unchanged).
 */
export const responseTransformer: PluginDefinition<ResponseTransformerConfig> = {
  schema: responseTransformerSchema,
  priority: 800,
  create(config, _entity, env) {
    const headerOps = compileHeaderOperations(config);
    const jsonOps = compileJsonOperations(config);
    return {
      headerFilter(ctx, response) {
        const json = jsonOps !== null && isJsonContentType(response.headers['content-type']);
        transformResponseHeaders(response.headers, headerOps);
        if (!json || compressed(response.headers)) return;
        delete response.headers['content-length'];
        ctx.transformResponseBody((body) => {
          const transformed = transformJson(body, jsonOps);
          if (transformed !== null) return transformed;
          env.logger.warn({ request_id: ctx.id, plugin: 'response-transformer' }, 'body transform failed: failed parsing json body');
          return body;
        });
      },
    };
  },
};
