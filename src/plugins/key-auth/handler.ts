import { findConsumer } from '../../config/find-consumer.js';
import type { RequestContext } from '../../pipeline/context.js';
import { GatewayError, type Challenge } from '../../pipeline/gateway-error.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { lookUpKey } from './find-key.js';
import { findKey } from './key-index.js';
import { keyAuthSchema, type KeyAuthConfig } from './schema.js';

const PLUGIN = 'key-auth';

/** Kong's key-auth (priority 1250): the consumer of an API key, with Kong's messages and `WWW-Authenticate: Key`. */
export const keyAuth: PluginDefinition<KeyAuthConfig> = {
  schema: keyAuthSchema,
  priority: 1250,
  create(config, _entity, env) {
    const anonymous = config.anonymous === null ? null : (findConsumer(env.config, config.anonymous) ?? null);
    const challenge: Challenge = { scheme: 'Key', params: { realm: config.realm ?? undefined } };
    const refuse = (ctx: RequestContext, code: string, message: string): void => {
      if (anonymous !== null) {
        // Kong's "logical OR": the anonymous consumer, no credential.
        ctx.identity = { consumer: anonymous, credentialId: null, groups: null, anonymous: true };
        ctx.auth = { plugin: PLUGIN, outcome: 'anonymous', reason: code };
        return;
      }
      ctx.auth = { plugin: PLUGIN, outcome: 'failure', reason: code };
      throw new GatewayError({ status: 401, code, message, challenge });
    };
    return {
      async access(ctx) {
        if (!config.run_on_preflight && ctx.request.method === 'OPTIONS') return;
        // With `anonymous`, a request another plugin already identified passes (Kong: get_credential()).
        if (anonymous !== null && ctx.identity !== null && !ctx.identity.anonymous) return;
        const lookup = await lookUpKey(ctx, config);
        if (lookup.found === 'duplicate') return refuse(ctx, 'duplicate_api_key', 'Duplicate API key found');
        if (lookup.found === 'none' || lookup.key === '') return refuse(ctx, 'no_api_key', 'No API key found in request');
        const match = findKey(env.config, lookup.key);
        if (match === null) return refuse(ctx, 'invalid_api_key', 'Unauthorized');
        ctx.identity = { consumer: match.consumer, credentialId: match.credential.id, groups: null, anonymous: false };
        ctx.auth = { plugin: PLUGIN, outcome: 'success', reason: 'api_key_valid' };
      },
    };
  },
};
