import type { RequestContext } from '../../pipeline/context.js';
import { realClientAddress, single } from '../../proxy/headers.js';
import type { RateLimitingConfig } from './schema.js';

/**
 * What a request is counted by (Kong's get_identifier): the consumer (else its credential), the
 * credential, the service, a header's (first, non-blank) value, or the configured path; each falls back to the
 * client address (X-Real-IP from a trusted proxy, as Kong's forwarded IP).
 */
export function identifierOf(ctx: RequestContext, config: RateLimitingConfig): string {
  let identifier: string | null | undefined;
  switch (config.limit_by) {
    case 'consumer':
      identifier = ctx.identity?.consumer?.id ?? ctx.identity?.credentialId;
      break;
    case 'credential':
      identifier = ctx.identity?.credentialId;
      break;
    case 'service':
      identifier = ctx.service?.id;
      break;
    case 'header':
      identifier = single(ctx.request.headers[config.header_name!.toLowerCase()]);
      break;
    case 'path':
      if (ctx.request.path === config.path) identifier = ctx.request.path;
      break;
  }
  return identifier ?? realClientAddress(ctx.request.headers, ctx.connection.remoteAddress, ctx.request.trustedPeer);
}
