import { Type, type Static } from '@sinclair/typebox';
import { atLeastOneOf } from '../../config/at-least-one-of.js';
import type { PluginSchema } from '../../pipeline/plugin.js';

const Groups = (description: string) => Type.Union([Type.Array(Type.String()), Type.Null()], { default: null, description });

/** Kong's acl (kong/plugins/acl/schema.lua): allow or deny by the consumer's groups or the authenticated groups. */
export const aclConfig = Type.Object(
  {
    allow: Groups('Groups allowed to consume the service or route; exactly one of allow and deny.'),
    deny: Groups('Groups not allowed to consume the service or route; exactly one of allow and deny.'),
    hide_groups_header: Type.Boolean({ default: false, description: 'Do not send X-Consumer-Groups (or X-Authenticated-Groups) upstream.' }),
    always_use_authenticated_groups: Type.Boolean({
      default: false,
      description: 'Use the groups an auth plugin authenticated even when a consumer is known (falling back to its ACL groups when there are none).',
    }),
    include_consumer_groups: Type.Boolean({
      default: false,
      description: "Kong Enterprise: the names of the consumer's consumer groups count as ACL groups too (in allow, deny and X-Consumer-Groups).",
    }),
  },
  { additionalProperties: false },
);

export type AclConfig = Static<typeof aclConfig>;

const nonEmpty = (list: readonly string[] | null): boolean => list !== null && list.length > 0;

export const aclSchema: PluginSchema = {
  name: 'acl',
  configSchema: aclConfig,
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index) {
    const c = plugin.config as AclConfig;
    const at = `plugins[${index}].config`;
    // Kong's entity checks: at_least_one_of and only_one_of { "config.allow", "config.deny" }.
    const missing = atLeastOneOf(c, ['allow', 'deny'], at);
    if (missing !== null) return [missing];
    if (nonEmpty(c.allow) && nonEmpty(c.deny)) return [{ path: at, message: "only one of these fields must be non-empty: 'config.allow', 'config.deny'" }];
    return [];
  },
};
