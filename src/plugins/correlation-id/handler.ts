import type { RequestContext } from '../../pipeline/context.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { generators } from './generators.js';
import { correlationIdSchema, type CorrelationIdConfig } from './schema.js';

/**
 * Where the request's correlation id is kept for the rest of the request: Kong adds it to the log
 * record (`kong.log.set_serialize_value("correlation_id", …)`), so log plugins read it here.
 */
export const CORRELATION_ID_KEY = 'correlation_id';

/**
 * Kong's correlation-id (priority 100001): a non-empty incoming `header_name` is kept as it is;
 * otherwise the generator makes one and it is sent upstream in that header. With
 * `echo_downstream` the same value goes back to the client (on the gateway's own answers too,
 * which pass the header_filter as Kong's exit does).
 */
export const correlationId: PluginDefinition<CorrelationIdConfig> = {
  schema: correlationIdSchema,
  priority: 100001,
  create(config) {
    const header = config.header_name.toLowerCase();
    const generate = generators[config.generator];
    const incoming = (ctx: RequestContext): string | null => {
      const value = ctx.request.headers[header];
      // Kong's get_header returns the first value of a repeated header.
      const first = Array.isArray(value) ? value[0] : value;
      return first === undefined || first === '' ? null : first;
    };
    return {
      access(ctx) {
        let id = incoming(ctx);
        if (id === null) {
          id = generate(ctx.connection);
          ctx.upstreamHeaders[header] = id;
        }
        ctx.shared.set(CORRELATION_ID_KEY, id);
      },
      headerFilter(ctx, response) {
        if (!config.echo_downstream) return;
        const id = ctx.shared.get(CORRELATION_ID_KEY);
        response.headers[header] = typeof id === 'string' ? id : (incoming(ctx) ?? generate(ctx.connection));
      },
    };
  },
};
