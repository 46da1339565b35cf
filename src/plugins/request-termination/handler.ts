import { GatewayError } from '../../pipeline/gateway-error.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import type { RequestContext } from '../../pipeline/context.js';
import { requestTerminationSchema, type RequestTerminationConfig } from './schema.js';

const defaultMessages: Record<number, string> = { 503: 'Service unavailable', 404: 'Not found', 403: 'Forbidden' };

function isTriggered(ctx: RequestContext, trigger: string | null): boolean {
  if (trigger === null) return true;
  if (ctx.request.headers[trigger.toLowerCase()] !== undefined) return true;
  return new URLSearchParams(ctx.request.query).has(trigger);
}

export const requestTermination: PluginDefinition<RequestTerminationConfig> = {
  schema: requestTerminationSchema,
  priority: 2,
  create(config) {
    return {
      access(ctx) {
        if (!isTriggered(ctx, config.trigger)) return;
        const status = config.status_code;
        if (config.echo) {
          const echo = { message: config.message, request: { method: ctx.request.method, path: ctx.request.path, query: ctx.request.query, headers: ctx.request.headers }, matched_route: ctx.route.name };
          throw new GatewayError({ status, code: 'request_terminated', message: 'terminated', body: { contentType: 'application/json; charset=utf-8', text: JSON.stringify(echo) } });
        }
        if (config.body !== null) {
          throw new GatewayError({ status, code: 'request_terminated', message: 'terminated', body: { contentType: config.content_type ?? 'application/json; charset=utf-8', text: config.body } });
        }
        const message = config.message ?? defaultMessages[status] ?? 'Request terminated';
        throw new GatewayError({ status, code: 'request_terminated', message, body: { contentType: 'application/json; charset=utf-8', text: JSON.stringify({ message }) } });
      },
    };
  },
};
