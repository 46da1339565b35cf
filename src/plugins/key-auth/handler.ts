import { namedConsumer } from '../../config/find-consumer.js';
import { authenticated, proceedAsAnonymous } from '../../pipeline/anonymous.js';
import type { RequestContext } from '../../pipeline/context.js';
import { GatewayError, type Challenge } from '../../pipeline/gateway-error.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { hideKey, lookUpKey, type KeyLookup } from './find-key.js';
import { keyIndex } from './key-index.js';
import { keyAuthSchema, type KeyAuthConfig } from './schema.js';

const PLUGIN = 'key-auth';

/** Kong's key-auth (priority 1250): the consumer of an API key, with Kong's messages and `WWW-Authenticate: Key`. */
export const keyAuth: PluginDefinition<KeyAuthConfig> = {
  schema: keyAuthSchema,
  priority: 1250,
  create(config, _entity, env) {
    const anonymous = namedConsumer(env.config, config.anonymous);
    const keys = keyIndex(env.config);
    const challenge: Challenge = { scheme: 'Key', params: { realm: config.realm ?? undefined } };
    const refuse = (ctx: RequestContext, lookup: KeyLookup, code: string, message: string): void => {
      if (anonymous !== null) {
        proceedAsAnonymous(ctx, PLUGIN, anonymous, code);
        // A refused key never travels upstream, whatever hide_credentials says (Kong passes it on).
        if (lookup.found === 'key') hideKey(ctx, lookup.name, config);
        return;
      }
      ctx.auth = { plugin: PLUGIN, outcome: 'failure', reason: code };
      throw new GatewayError({ status: 401, code, message, challenge });
    };
    /** The verdict on what the lookup found. */
    const judge = (ctx: RequestContext, lookup: KeyLookup): void => {
      if (lookup.found === 'duplicate') return refuse(ctx, lookup, 'duplicate_api_key', 'Duplicate API key found');
      if (lookup.found === 'none' || lookup.key === '') return refuse(ctx, lookup, 'no_api_key', 'No API key found in request');
      // As Kong, the key is hidden once found, before it is checked.
      if (config.hide_credentials) hideKey(ctx, lookup.name, config);
      const match = keys.find(lookup.key);
      if (match === null) return refuse(ctx, lookup, 'invalid_api_key', 'Unauthorized');
      ctx.identity = { consumer: match.consumer, credentialId: match.credential.id, groups: null, anonymous: false };
      ctx.auth = { plugin: PLUGIN, outcome: 'success', reason: 'api_key_valid' };
    };
    // The key's header and query argument never reach a log record, whatever hide_credentials says.
    const names = config.key_names.map((name) => name.toLowerCase());
    return {
      credentialCarriers: { headers: names, query: names },
      access(ctx) {
        if (!config.run_on_preflight && ctx.request.method === 'OPTIONS') return;
        // With `anonymous`, a request another plugin already identified passes (Kong: get_credential()).
        if (anonymous !== null && authenticated(ctx)) return;
        // A key in a header or the query is found synchronously: no promise on the common path.
        const lookup = lookUpKey(ctx, config);
        return lookup instanceof Promise ? lookup.then((found) => judge(ctx, found)) : judge(ctx, lookup);
      },
    };
  },
};
