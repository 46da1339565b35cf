import { namedConsumer } from '../../config/find-consumer.js';
import { authenticated, proceedAsAnonymous } from '../../pipeline/anonymous.js';
import type { RequestContext } from '../../pipeline/context.js';
import { GatewayError, type Challenge } from '../../pipeline/gateway-error.js';
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { verifyHmac, verifySignature } from '../../util/jws-algorithms.js';
import { lookUpToken } from './find-token.js';
import { parseToken, type ParsedToken } from './parse-token.js';
import { maximumExpirationError, registeredClaimErrors, type ClaimErrors } from './registered-claims.js';
import { jwtSchema, type JwtConfig } from './schema.js';
import { jwtSecretIndex, type JwtCredential } from './secret-index.js';

const PLUGIN = 'jwt';

/** The key under which the verified token is left for later plugins (Kong: kong.ctx.shared.authenticated_jwt_token). */
export const AUTHENTICATED_JWT_TOKEN = 'authenticated_jwt_token';

/** Why a request was not authenticated: Kong's message (or claim errors, sent as the body) and a stable reason code. */
class Refusal {
  constructor(
    readonly code: string,
    readonly message: string,
    readonly claimErrors: ClaimErrors | null = null,
    /** No token at all: the challenge carries no `error` (RFC 6750 §3.1). */
    readonly bare = false,
  ) {}
}

/** The reason code of failed claim checks: the first that failed, in Kong's order. */
function claimReason(errors: ClaimErrors): string {
  if (errors.exp === 'token expired') return 'token_expired';
  if (errors.exp === 'exceeds maximum allowed expiration') return 'token_lifetime_exceeded';
  if (errors.nbf === 'token not valid yet') return 'token_not_yet_valid';
  return 'claims_invalid';
}

/** Whether the token's signature is the credential's (the algorithm already equals the credential's). */
function signatureValid(token: ParsedToken, credential: JwtCredential, secretIsBase64: boolean): boolean | 'no_key' {
  if (credential.secret !== null) {
    const secret = secretIsBase64 ? credential.secret.decoded : credential.secret.plain;
    return secret === null ? 'no_key' : verifyHmac(token.alg, secret, token.signingInput, token.signature);
  }
  if (credential.publicKey === null) return 'no_key';
  return verifySignature(token.alg, credential.publicKey, token.signingInput, token.signature);
}

/** Kong's jwt (priority 1450), do_authentication: the consumer of a token signed with one of its jwt_secrets. */
export const jwt: PluginDefinition<JwtConfig> = {
  schema: jwtSchema,
  priority: 1450,
  create(config, _entity, env) {
    const anonymous = namedConsumer(env.config, config.anonymous);
    const secrets = jwtSecretIndex(env.config);
    const claim = config.key_claim_name;
    const realm = config.realm ?? undefined;

    const authenticate = (ctx: RequestContext): JwtCredential | Refusal => {
      const lookup = lookUpToken(ctx, config);
      if (lookup.found === 'none') return new Refusal('no_token', 'Unauthorized', null, true);
      if (lookup.found === 'several') return new Refusal('multiple_tokens', 'Multiple tokens provided');
      const parsed = parseToken(lookup.token);
      if (!parsed.ok) return new Refusal('token_malformed', `Bad token; ${parsed.reason}`);
      const token = parsed.token;
      const keyValue = token.claims[claim] ?? token.header[claim];
      if (keyValue === undefined || keyValue === null) return new Refusal('key_claim_missing', `No mandatory '${claim}' in claims`);
      if (keyValue === '') return new Refusal('key_claim_invalid', `Invalid '${claim}' in claims`);
      const found = typeof keyValue === 'string' ? secrets.find(keyValue) : null;
      if (found === null) return new Refusal('credential_not_found', `No credentials found for given '${claim}'`);
      // RFC 8725 §3.1: the credential fixes the algorithm; the token's header only has to agree.
      if (token.alg !== found.credential.algorithm) return new Refusal('algorithm_mismatch', 'Invalid algorithm');
      const valid = signatureValid(token, found, config.secret_is_base64);
      if (valid === 'no_key') return new Refusal('key_invalid', 'Invalid key/secret');
      if (!valid) return new Refusal('signature_invalid', 'Invalid signature');
      const now = Math.floor(Date.now() / 1000);
      const claimErrors = registeredClaimErrors(token.claims, config.claims_to_verify ?? [], now) ?? maximumExpirationError(token.claims, config.maximum_expiration, now);
      if (claimErrors !== null) return new Refusal(claimReason(claimErrors), 'Unauthorized', claimErrors);
      ctx.shared.set(AUTHENTICATED_JWT_TOKEN, lookup.token);
      return found;
    };

    const refuse = (ctx: RequestContext, refusal: Refusal): void => {
      if (anonymous !== null) return proceedAsAnonymous(ctx, PLUGIN, anonymous, refusal.code);
      ctx.auth = { plugin: PLUGIN, outcome: 'failure', reason: refusal.code };
      const challenge: Challenge = { scheme: 'Bearer', params: { realm, error: refusal.bare ? undefined : 'invalid_token' } };
      // Kong sends a failed claim check as the map of claim errors itself, not as a message.
      const body = refusal.claimErrors === null ? undefined : { contentType: 'application/json; charset=utf-8', text: JSON.stringify(refusal.claimErrors) };
      throw new GatewayError({ status: 401, code: refusal.code, message: refusal.message, challenge, ...(body === undefined ? {} : { body }) });
    };

    return {
      access(ctx) {
        if (!config.run_on_preflight && ctx.request.method === 'OPTIONS') return;
        // With `anonymous`, a request another plugin already identified passes (Kong: get_credential()).
        if (anonymous !== null && authenticated(ctx)) return;
        const outcome = authenticate(ctx);
        if (outcome instanceof Refusal) return refuse(ctx, outcome);
        ctx.identity = { consumer: outcome.consumer, credentialId: outcome.credential.key, groups: null, anonymous: false };
        ctx.auth = { plugin: PLUGIN, outcome: 'success', reason: 'token_valid' };
      },
    };
  },
};
