/**
 * Kong's "logical OR" of authentication plugins: with `anonymous` set, a plugin that cannot
 * authenticate a request lets it through as the anonymous consumer instead of refusing it, and a
 * request an earlier plugin already authenticated passes it untouched.
 */
import type { Consumer } from '../config/types.js';
import type { RequestContext } from './context.js';

/** Whether an earlier plugin authenticated the request as somebody (not as the anonymous consumer). */
export function authenticated(ctx: RequestContext): boolean {
  return ctx.identity !== null && !ctx.identity.anonymous;
}

/** The request goes on as the anonymous consumer; `reason` is why the plugin could not authenticate it. */
export function proceedAsAnonymous(ctx: RequestContext, plugin: string, consumer: Consumer, reason: string): void {
  ctx.identity = { consumer, credentialId: null, groups: null, anonymous: true };
  ctx.auth = { plugin, outcome: 'anonymous', reason };
}
