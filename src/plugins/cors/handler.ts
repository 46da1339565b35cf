import type { HeaderMap, RequestContext } from '../../pipeline/context.js';
import { exposeHeaders } from '../../pipeline/expose-headers.js';
import { GatewayError } from '../../pipeline/gateway-error.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { flatHeaders } from '../../pipeline/respond.js';
import { single } from '../../proxy/headers.js';
import { compileOrigins, matchOrigin } from './origins.js';
import { corsSchema, type CorsConfig } from './schema.js';

/** Set on a preflight: answered (or passed to the upstream) without the response headers of header_filter. */
const PREFLIGHT = 'cors:preflight';

/** Response headers the auth plugins answer with, which a browser's script needs to read (RFC 6750 §3, RFC 9449 §8). */
const AUTH_HEADERS = ['WWW-Authenticate', 'DPoP-Nonce'];

function addVary(headers: HeaderMap, append: boolean): void {
  const existing = headers['vary'];
  if (!append || existing === undefined) headers['vary'] = 'Origin';
  else headers['vary'] = [...(Array.isArray(existing) ? existing : [existing]), 'Origin'];
}

/**
 * Kong's cors (priority 2000, before everything): a preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is answered 200 by the gateway, never reaching the upstream or
 * the auth plugins, unless `preflight_continue`; every other response, the gateway's refusals
 * included, gets Access-Control-Allow-Origin and the rest in header_filter.
 */
export const cors: PluginDefinition<CorsConfig> = {
  schema: corsSchema,
  priority: 2000,
  create(config) {
    const policy = compileOrigins(config.origins);
    const methods = config.methods.join(',');
    const exposed = config.exposed_headers !== null && config.exposed_headers.length > 0 ? config.exposed_headers.join(',') : null;

    /** Kong's configure_origin: whether every origin is allowed (ACAO `*`). */
    const allowOrigin = (headers: HeaderMap, origin: string | undefined, append: boolean): boolean => {
      if (policy.kind === 'any') {
        headers['access-control-allow-origin'] = '*';
        return true;
      }
      addVary(headers, append);
      if (policy.kind === 'fixed') {
        headers['access-control-allow-origin'] = policy.origin;
        return false;
      }
      if (origin !== undefined) {
        if (policy.any) {
          headers['access-control-allow-origin'] = '*';
          return true;
        }
        const allowed = matchOrigin(policy.entries, origin);
        if (allowed !== null) {
          headers['access-control-allow-origin'] = allowed;
          return false;
        }
      }
      delete headers['access-control-allow-origin'];
      return false;
    };

    /** Kong's configure_credentials: credentials never go with `*`, so the request's origin replaces it. */
    const allowCredentials = (headers: HeaderMap, allowAll: boolean, origin: string | undefined, append: boolean): void => {
      if (!config.credentials) return;
      if (!allowAll) {
        headers['access-control-allow-credentials'] = 'true';
      } else if (origin !== undefined) {
        addVary(headers, append);
        headers['access-control-allow-origin'] = origin;
        headers['access-control-allow-credentials'] = 'true';
      }
    };

    const preflight = (ctx: RequestContext, origin: string): never => {
      const headers: HeaderMap = {};
      const allowAll = allowOrigin(headers, origin, false);
      allowCredentials(headers, allowAll, origin, false);
      if (config.headers !== null && config.headers.length > 0) headers['access-control-allow-headers'] = config.headers.join(',');
      else {
        const requested = single(ctx.request.headers['access-control-request-headers']);
        if (requested !== undefined) headers['access-control-allow-headers'] = requested;
      }
      headers['access-control-allow-methods'] = methods;
      if (config.max_age !== null) headers['access-control-max-age'] = String(config.max_age);
      if (config.private_network && single(ctx.request.headers['access-control-request-private-network']) === 'true') {
        headers['access-control-allow-private-network'] = 'true';
      }
      throw new GatewayError({ status: 200, code: 'cors_preflight', message: '', headers: flatHeaders(headers), body: { contentType: 'text/plain; charset=utf-8', text: '' } });
    };

    return {
      access(ctx) {
        const origin = single(ctx.request.headers.origin);
        if (ctx.request.method !== 'OPTIONS' || origin === undefined || ctx.request.headers['access-control-request-method'] === undefined) return;
        ctx.shared.set(PREFLIGHT, true);
        if (!config.preflight_continue) preflight(ctx, origin);
      },
      headerFilter(ctx, response) {
        if (ctx.shared.get(PREFLIGHT) === true) return;
        const origin = single(ctx.request.headers.origin);
        if (origin === undefined && !config.allow_origin_absent) return;
        const headers = response.headers;
        const allowAll = allowOrigin(headers, origin, true);
        allowCredentials(headers, allowAll, origin, true);
        if (exposed !== null) headers['access-control-expose-headers'] = exposed;
        // What the auth plugins answer with joins the exposed headers: a script must read a challenge.
        exposeHeaders(
          headers,
          AUTH_HEADERS.filter((h) => headers[h.toLowerCase()] !== undefined),
          ',',
        );
      },
    };
  },
};
