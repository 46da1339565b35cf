/**
 * Resource-server DPoP nonces (RFC 9449 §8, §9), stateless: a nonce is the second it was issued
 * plus a MAC of that second under the gateway's own key, so every worker, and every node given
 * the same key, accepts the nonces of the others without sharing any state. Nonces are opaque to
 * clients and unpredictable without the key; all clients get the same nonce within one second.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const CONTEXT = Buffer.from('portcullis dpop nonce v1\0', 'latin1');
const TIME_BYTES = 6;
const MAC_BYTES = 16;
/** base64url of 22 bytes. */
const NONCE = /^[A-Za-z0-9_-]{30}$/;

export type NonceCheck =
  | { readonly ok: true; readonly issuedAt: number }
  | { readonly ok: false; readonly reason: 'dpop_nonce_invalid' | 'dpop_nonce_expired' };

export class NonceMinter {
  readonly #key: Buffer;

  /** `key`: at least 32 bytes, the same on every worker and node that should accept each other's nonces. */
  constructor(key: Uint8Array) {
    if (key.length < 32) throw new TypeError('the DPoP nonce key must have at least 32 bytes');
    this.#key = Buffer.from(key);
  }

  /** The nonce for the second `nowSeconds`. */
  issue(nowSeconds: number): string {
    const time = Buffer.alloc(TIME_BYTES);
    time.writeUIntBE(Math.floor(nowSeconds), 0, TIME_BYTES);
    return Buffer.concat([time, this.#mac(time)]).toString('base64url');
  }

  /**
   * Whether `nonce` is one of ours and younger than `lifetimeSeconds` (a nonce from the future,
   * beyond `futureSkewSeconds`, is invalid: no honest node issues it).
   */
  check(nonce: string, nowSeconds: number, lifetimeSeconds: number, futureSkewSeconds: number): NonceCheck {
    if (!NONCE.test(nonce)) return { ok: false, reason: 'dpop_nonce_invalid' };
    const bytes = Buffer.from(nonce, 'base64url');
    // One spelling per nonce: the spare bits of the last character must be zero.
    if (bytes.toString('base64url') !== nonce) return { ok: false, reason: 'dpop_nonce_invalid' };
    const time = bytes.subarray(0, TIME_BYTES);
    if (!timingSafeEqual(bytes.subarray(TIME_BYTES), this.#mac(time))) return { ok: false, reason: 'dpop_nonce_invalid' };
    const issuedAt = time.readUIntBE(0, TIME_BYTES);
    if (issuedAt > nowSeconds + futureSkewSeconds) return { ok: false, reason: 'dpop_nonce_invalid' };
    if (nowSeconds - issuedAt > lifetimeSeconds) return { ok: false, reason: 'dpop_nonce_expired' };
    return { ok: true, issuedAt };
  }

  #mac(time: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(CONTEXT).update(time).digest().subarray(0, MAC_BYTES);
  }
}
