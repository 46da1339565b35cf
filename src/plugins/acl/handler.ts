import type { Config } from '../../config/types.js';
import { authenticated } from '../../pipeline/anonymous.js';
import type { RequestContext } from '../../pipeline/context.js';
import { GatewayError } from '../../pipeline/gateway-error.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { aclSchema, type AclConfig } from './schema.js';

const PLUGIN = 'acl';

/** Each consumer's ACL groups, per configuration (built once, shared by every acl instance of it). */
const groupsByConfig = new WeakMap<Config, Map<string, readonly string[]>>();

function consumerGroups(config: Config): ReadonlyMap<string, readonly string[]> {
  let index = groupsByConfig.get(config);
  if (index === undefined) {
    const built = new Map<string, string[]>();
    for (const acl of config.acls) {
      const list = built.get(acl.consumer);
      if (list === undefined) built.set(acl.consumer, [acl.group]);
      else list.push(acl.group);
    }
    index = built;
    groupsByConfig.set(config, index);
  }
  return index;
}

/** The same, with the names of each consumer's consumer groups after its ACL groups (`include_consumer_groups`). */
const withGroupsByConfig = new WeakMap<Config, Map<string, readonly string[]>>();

function consumerAndGroupNames(config: Config): ReadonlyMap<string, readonly string[]> {
  let index = withGroupsByConfig.get(config);
  if (index === undefined) {
    const built = new Map<string, string[]>([...consumerGroups(config)].map(([consumer, groups]) => [consumer, [...groups]]));
    for (const group of config.consumer_groups) {
      for (const consumer of group.consumers) {
        const list = built.get(consumer);
        if (list === undefined) built.set(consumer, [group.name]);
        else if (!list.includes(group.name)) list.push(group.name);
      }
    }
    index = built;
    withGroupsByConfig.set(config, index);
  }
  return index;
}

function refuse(ctx: RequestContext, status: 401 | 403, code: string): never {
  ctx.auth = { plugin: PLUGIN, outcome: 'failure', reason: code };
  throw new GatewayError({ status, code, message: status === 401 ? 'Unauthorized' : 'You cannot consume this service' });
}

/**
 * Kong's acl (priority 950, after every auth plugin). The groups judged are the consumer's ACL
 * groups, or the groups an auth plugin authenticated (openid-connect's `authenticated_groups_claim`,
 * mtls-auth's `authenticated_group_by`) when there is no consumer, the consumer is the anonymous
 * one, or `always_use_authenticated_groups`. Kong's outcomes: nobody and no groups 401 (403 when a
 * credential was presented), a consumer without groups passes a deny list and gets 401/403 from an
 * allow list, a blocked group 403 "You cannot consume this service".
 */
export const acl: PluginDefinition<AclConfig> = {
  schema: aclSchema,
  priority: 950,
  create(config, _entity, env) {
    // Built with the configuration, not on its first request.
    const groupsOf = config.include_consumer_groups ? consumerAndGroupNames(env.config) : consumerGroups(env.config);
    const deny = config.deny !== null && config.deny.length > 0;
    const listed = new Set(deny ? config.deny : (config.allow ?? []));
    const blocks = (groups: readonly string[]): boolean => groups.some((g) => listed.has(g)) === deny;
    return {
      access(ctx) {
        const identity = ctx.identity;
        const credential = authenticated(ctx);
        const consumer = identity?.consumer ?? null;
        const authenticatedGroups = identity?.groups ?? null;
        const useAuthenticated = consumer === null || !credential || config.always_use_authenticated_groups;
        let groups: readonly string[];
        let header: 'x-consumer-groups' | 'x-authenticated-groups';
        if (useAuthenticated && authenticatedGroups !== null && authenticatedGroups.length > 0) {
          groups = authenticatedGroups;
          header = 'x-authenticated-groups';
        } else if (consumer === null) {
          return refuse(ctx, credential ? 403 : 401, credential ? 'acl_no_groups' : 'acl_no_consumer');
        } else {
          const own = groupsOf.get(consumer.id);
          if (own === undefined && !deny) return refuse(ctx, credential ? 403 : 401, credential ? 'acl_no_groups' : 'acl_no_consumer');
          groups = own ?? [];
          header = 'x-consumer-groups';
        }
        if (blocks(groups)) return refuse(ctx, 403, 'acl_group_blocked');
        if (!config.hide_groups_header && groups.length > 0) ctx.upstreamHeaders[header] = groups.join(', ');
      },
    };
  },
};
