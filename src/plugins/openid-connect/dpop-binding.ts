/**
 * RFC 9449 at the resource server, per request: the token's scheme, one proof in one `DPoP`
 * header, the proof itself (`src/dpop/proof.ts`), its age (from `iat`, or from the gateway's nonce
 * with `dpop_use_nonce`), the key binding (`cnf.jkt`), and last, once everything else holds, the
 * single use of its `jti` in the node's replay store. Runs on every request, cached token or not.
 *
 * Modes as Kong's: `strict` checks every request; `optional` only tokens bound to a DPoP key, and
 * lets unbound ones through whatever their scheme.
 */
import { createHash } from 'node:crypto';
import { NonceMinter } from '../../dpop/nonce.js';
import { requestHtu } from '../../dpop/htu.js';
import { MAX_PROOF_LENGTH, ProofError, verifyProof } from '../../dpop/proof.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { ReplayCache } from '../../state/replay-cache.js';
import type { Principal } from './authenticate.js';
import type { FoundToken } from './extract-token.js';
import { sameThumbprint } from './proof-of-possession.js';
import { AuthFailure } from './responses.js';

export interface DpopSettings {
  readonly mode: 'strict' | 'optional';
  readonly lifetimeSeconds: number;
  readonly futureSkewSeconds: number;
  readonly useNonce: boolean;
  readonly algorithms: readonly string[];
}

/** A nonce is renewed on a success once less than this remains of it (Kong: 60 s). */
const NONCE_RENEWAL_SECONDS = 60;

export class DpopBinding {
  readonly #s: DpopSettings;
  readonly #replay: ReplayCache;
  readonly #nonces: NonceMinter;
  readonly #now: () => number;

  constructor(settings: DpopSettings, services: { replayCache: ReplayCache; nonceKey: Uint8Array }, now: () => number = Date.now) {
    this.#s = settings;
    this.#replay = services.replayCache;
    this.#nonces = new NonceMinter(services.nonceKey);
    this.#now = now;
  }

  get settings(): DpopSettings {
    return this.#s;
  }

  /** A nonce for a response (every refusal carries one when nonces are on). */
  freshNonce(): string {
    return this.#nonces.issue(this.#now() / 1000);
  }

  /**
   * Checks the request's proof against the principal. Returns whether a proof was verified (false:
   * optional mode and an unbound token). Throws AuthFailure.
   */
  async check(ctx: RequestContext, principal: Principal, found: FoundToken): Promise<boolean> {
    const s = this.#s;
    if (s.mode === 'optional' && principal.jkt === null) return false;
    if (found.scheme !== 'dpop') {
      throw new AuthFailure(principal.jkt !== null ? 'dpop_token_downgraded' : 'dpop_scheme_required', `presented ${found.scheme === 'bearer' ? 'with the Bearer scheme' : `in the ${found.location}`}`);
    }
    const value = ctx.request.headers['dpop'];
    if (value === undefined || value === '') throw new AuthFailure('dpop_proof_missing');
    // Node joins repeated fields with ", "; a compact JWS never contains a comma.
    if (Array.isArray(value) || value.includes(',')) throw new AuthFailure('dpop_proof_multiple');
    if (value.length > MAX_PROOF_LENGTH) throw new AuthFailure('dpop_proof_too_large', `${value.length} characters`);
    if (principal.jkt === null) throw new AuthFailure('dpop_binding_missing');
    const tokenType = principal.method === 'introspection' ? principal.claims.token_type : undefined;
    if (typeof tokenType === 'string' && tokenType.toLowerCase() !== 'dpop') throw new AuthFailure('dpop_token_type_mismatch', `token_type ${tokenType.slice(0, 20)}`);

    let proof;
    try {
      proof = await verifyProof(value.trim(), { method: ctx.request.method, htu: requestHtu(ctx.request), accessToken: found.token, algorithms: s.algorithms });
    } catch (error) {
      if (error instanceof ProofError) throw new AuthFailure(error.reason, error.message);
      throw error;
    }

    const now = this.#now() / 1000;
    let createdAt: number;
    if (s.useNonce) {
      if (proof.nonce === undefined) throw new AuthFailure('dpop_nonce_missing');
      const nonce = this.#nonces.check(proof.nonce, now, s.lifetimeSeconds, s.futureSkewSeconds);
      if (!nonce.ok) throw new AuthFailure(nonce.reason);
      // The nonce carries the gateway's own time: the client's clock does not matter (§11.1).
      createdAt = nonce.issuedAt;
      if (createdAt + s.lifetimeSeconds - now < Math.min(NONCE_RENEWAL_SECONDS, s.lifetimeSeconds / 2)) {
        ctx.responseHeaders['dpop-nonce'] = this.#nonces.issue(now);
        ctx.responseHeaders['cache-control'] = 'no-store';
      }
    } else {
      if (proof.iat > now + s.futureSkewSeconds) throw new AuthFailure('dpop_iat_future', `iat ${Math.round(proof.iat - now)} s ahead`);
      if (now - proof.iat > s.lifetimeSeconds) throw new AuthFailure('dpop_proof_expired', `iat ${Math.round(now - proof.iat)} s ago`);
      createdAt = proof.iat;
    }
    if (!sameThumbprint(proof.jkt, principal.jkt)) throw new AuthFailure('dpop_key_mismatch');

    // Last: only a proof that passed everything may take its jti out of circulation.
    const key = createHash('sha256').update(proof.jkt).update('\0').update(proof.jti).digest('base64url');
    let claimed;
    try {
      claimed = await this.#replay.claim(key, createdAt * 1000, (createdAt + s.lifetimeSeconds + s.futureSkewSeconds) * 1000);
    } catch (error) {
      throw new AuthFailure('dpop_replay_unavailable', error instanceof Error ? error.message : String(error), { cause: error });
    }
    if (claimed === 'replayed') throw new AuthFailure('dpop_proof_replayed');
    if (claimed === 'beyond_capacity') throw new AuthFailure('dpop_replay_beyond_capacity');
    return true;
  }
}
