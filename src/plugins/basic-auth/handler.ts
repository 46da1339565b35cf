import { namedConsumer } from '../../config/find-consumer.js';
import { authenticated, proceedAsAnonymous } from '../../pipeline/anonymous.js';
import type { RequestContext } from '../../pipeline/context.js';
import { GatewayError, type Challenge } from '../../pipeline/gateway-error.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { basicAuthIndex, passwordOf, type BasicAuthMatch } from './credential-index.js';
import { parseBasicCredentials, requestHeader, type PresentedCredentials } from './find-credentials.js';
import { basicAuthSchema, type BasicAuthConfig } from './schema.js';

const PLUGIN = 'basic-auth';

type HeaderName = 'authorization' | 'proxy-authorization';

/** What the request presented, and in which headers (so that a refused password can be kept from the upstream). */
interface Attempt {
  readonly match: BasicAuthMatch | null;
  readonly presented: PresentedCredentials | null;
  readonly parsedIn: readonly HeaderName[];
}

/**
 * Kong's order (access.lua): Proxy-Authorization first; only when it names no known username is
 * Authorization read. With `hide_credentials`, each header read is removed from the upstream
 * request, whether or not it held usable credentials.
 */
function attempt(ctx: RequestContext, config: BasicAuthConfig, find: (username: string) => BasicAuthMatch | null): Attempt {
  const parsedIn: HeaderName[] = [];
  const read = (name: HeaderName): PresentedCredentials | null => {
    const credentials = parseBasicCredentials(requestHeader(ctx, name));
    if (config.hide_credentials) delete ctx.upstreamHeaders[name];
    if (credentials !== null) parsedIn.push(name);
    return credentials;
  };
  let presented = read('proxy-authorization');
  let match = presented === null ? null : find(presented.username);
  if (match === null) {
    presented = read('authorization');
    match = presented === null ? null : find(presented.username);
  }
  return { match, presented, parsedIn };
}

/** Kong's basic-auth (priority 1100): a consumer's username and password, every failure a 401 "Unauthorized". */
export const basicAuth: PluginDefinition<BasicAuthConfig> = {
  schema: basicAuthSchema,
  priority: 1100,
  create(config, _entity, env) {
    const anonymous = namedConsumer(env.config, config.anonymous);
    const credentials = basicAuthIndex(env.config);
    const challenge: Challenge = { scheme: 'Basic', params: { realm: config.realm } };
    const refuse = (ctx: RequestContext, code: string, parsedIn: readonly HeaderName[]): void => {
      if (anonymous !== null) {
        proceedAsAnonymous(ctx, PLUGIN, anonymous, code);
        // A refused password never travels upstream, whatever hide_credentials says (Kong passes it on).
        for (const name of parsedIn) delete ctx.upstreamHeaders[name];
        return;
      }
      ctx.auth = { plugin: PLUGIN, outcome: 'failure', reason: code };
      throw new GatewayError({ status: 401, code, message: 'Unauthorized', challenge });
    };
    return {
      access(ctx) {
        // With `anonymous`, a request another plugin already identified passes (Kong: get_credential()).
        if (anonymous !== null && authenticated(ctx)) return;
        if (requestHeader(ctx, 'authorization') === undefined && requestHeader(ctx, 'proxy-authorization') === undefined) {
          return refuse(ctx, 'no_credentials', []);
        }
        const { match, presented, parsedIn } = attempt(ctx, config, (username) => credentials.find(username));
        if (presented === null) return refuse(ctx, 'credentials_malformed', parsedIn);
        if (match === null) return refuse(ctx, 'unknown_username', parsedIn);
        if (!passwordOf(match, presented.password)) return refuse(ctx, 'password_invalid', parsedIn);
        ctx.identity = { consumer: match.consumer, credentialId: match.credential.username, groups: null, anonymous: false };
        ctx.auth = { plugin: PLUGIN, outcome: 'success', reason: 'credentials_valid' };
      },
    };
  },
};
