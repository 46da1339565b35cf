import { GatewayError } from '../../pipeline/gateway-error.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { realClientAddress } from '../../proxy/headers.js';
import { compileAddressSet, type AddressSet } from '../../util/trusted-addresses.js';
import { ipRestrictionSchema, type IpRestrictionConfig } from './schema.js';

const compiled = (list: readonly string[] | null): AddressSet | null => (list === null || list.length === 0 ? null : compileAddressSet(list, 'ip-restriction'));

/**
 * Kong's ip-restriction (priority 990): the client address (X-Real-IP from a `--trusted-ips` peer,
 * as Kong's real-IP module) against `deny`, then `allow`, compared in binary form (an IPv4 client
 * on a dual-stack socket matches IPv4 rules).
 */
export const ipRestriction: PluginDefinition<IpRestrictionConfig> = {
  schema: ipRestrictionSchema,
  priority: 990,
  create(config) {
    const deny = compiled(config.deny);
    const allow = compiled(config.allow);
    return {
      access(ctx) {
        const address = realClientAddress(ctx.request.headers, ctx.connection.remoteAddress, ctx.request.trustedPeer);
        if (deny?.has(address) === true || (allow !== null && !allow.has(address))) {
          throw new GatewayError({ status: config.status ?? 403, code: 'ip_not_allowed', message: config.message ?? `IP address not allowed: ${address}` });
        }
      },
    };
  },
};
