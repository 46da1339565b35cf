import { Type, type Static } from '@sinclair/typebox';
import { atLeastOneOf } from '../../config/at-least-one-of.js';
import type { ConfigError } from '../../config/types.js';
import type { PluginSchema } from '../../pipeline/plugin.js';
import { compileAddressSet } from '../../util/trusted-addresses.js';

const Addresses = (description: string) => Type.Union([Type.Array(Type.String({ minLength: 1 })), Type.Null()], { default: null, description });

/** Kong's ip-restriction (kong/plugins/ip-restriction/schema.lua). */
export const ipRestrictionConfig = Type.Object(
  {
    allow: Addresses('IPs or CIDR ranges allowed (IPv4 or IPv6); every other client is refused.'),
    deny: Addresses('IPs or CIDR ranges refused; checked before allow.'),
    status: Type.Union([Type.Number(), Type.Null()], { default: null, description: 'Status of a refusal (default 403).' }),
    message: Type.Union([Type.String(), Type.Null()], { default: null, description: "Message of a refusal (default 'IP address not allowed: <client address>')." }),
  },
  { additionalProperties: false },
);

export type IpRestrictionConfig = Static<typeof ipRestrictionConfig>;

/** Each entry of `list` as Kong's typedefs.ip_or_cidr checks it. */
function checkAddresses(list: readonly string[] | null, at: string): ConfigError[] {
  return (list ?? []).flatMap((entry, i) => {
    try {
      compileAddressSet([entry]);
      return [];
    } catch {
      return [{ path: `${at}[${i}]`, message: `invalid ip or cidr range: '${entry}'` }];
    }
  });
}

export const ipRestrictionSchema: PluginSchema = {
  name: 'ip-restriction',
  configSchema: ipRestrictionConfig,
  // Kong Enterprise lets it be scoped to a consumer group (its schema has a `consumer_group` field).
  scopes: { global: true, service: true, route: true, consumer: true, consumerGroup: true },
  // Kong's default adds tcp and tls (stream routes), which Portcullis does not proxy.
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index) {
    const c = plugin.config as IpRestrictionConfig;
    const at = `plugins[${index}].config`;
    const missing = atLeastOneOf(c, ['allow', 'deny'], at);
    if (missing !== null) return [missing];
    return [...checkAddresses(c.allow, `${at}.allow`), ...checkAddresses(c.deny, `${at}.deny`)];
  },
};
