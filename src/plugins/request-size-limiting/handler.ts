import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../../pipeline/gateway-error.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { requestSizeLimitingSchema, UNIT_BYTES, type RequestSizeLimitingConfig } from './schema.js';

/** A Content-Length as Lua's tonumber would read it for a size: plain decimal digits (anything else is "no valid length"). */
function declaredLength(headers: IncomingHttpHeaders): number | null {
  const value = headers['content-length']?.trim();
  return value === undefined || !/^\d+$/.test(value) ? null : Number(value);
}

/**
 * Kong's answer to an over-limit body: 413, or 417 to a client that asked `Expect: 100-continue`
 * (it is still waiting to be told whether to send). The connection is closed, as nginx does, so
 * the rest of the body is not read only to be discarded.
 */
function tooLarge(headers: IncomingHttpHeaders): GatewayError {
  const expectsContinue = headers.expect?.trim().toLowerCase() === '100-continue';
  return new GatewayError({ status: expectsContinue ? 417 : 413, code: 'request_size_limit_exceeded', message: 'Request size limit exceeded', headers: { connection: 'close' } });
}

/**
 * Kong's request-size-limiting (priority 951). A Content-Length above the limit is refused before
 * anything is read or sent upstream. A body without one (chunked, HTTP/2 without Content-Length) is
 * counted as it streams to the upstream (`ctx.limitBody`), never buffered: the upstream request is
 * aborted when it crosses the limit and the client gets the 413.
 */
export const requestSizeLimiting: PluginDefinition<RequestSizeLimitingConfig> = {
  schema: requestSizeLimitingSchema,
  priority: 951,
  create(config) {
    const limit = config.allowed_payload_size * UNIT_BYTES[config.size_unit];
    return {
      access(ctx) {
        const headers = ctx.request.headers;
        const length = declaredLength(headers);
        if (length !== null) {
          // The framing holds the body to its Content-Length: nothing more can arrive.
          if (length > limit) throw tooLarge(headers);
          return undefined;
        }
        if (config.require_content_length && headers['transfer-encoding']?.toLowerCase() !== 'chunked') {
          throw new GatewayError({ status: 411, code: 'content_length_required', message: 'A valid Content-Length header is required' });
        }
        if (!ctx.request.hasBody) return undefined;
        return ctx.limitBody({ limit, refusal: () => tooLarge(headers) });
      },
    };
  },
};
