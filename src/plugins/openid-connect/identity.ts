/**
 * Who the token is, for the core pipeline (Kong's `X-Consumer-*`, `X-Credential-Identifier`,
 * `X-Authenticated-Groups`) and what else goes upstream (`upstream_headers_*`,
 * `upstream_access_token_header`).
 */
import type { Consumer } from '../../config/types.js';
import type { HeaderMap, Identity } from '../../pipeline/context.js';
import { claimAt, claimValues } from './claims.js';
import { AuthFailure } from './responses.js';
import type { Claims } from './verify-jwt.js';

export interface IdentityRules {
  /** Claim paths tried in order (`consumer_claims` as one-segment paths, or the older `consumer_claim`). */
  readonly consumerClaims: ReadonlyArray<readonly string[]> | null;
  readonly consumerBy: readonly ('id' | 'username' | 'custom_id')[];
  readonly usernameIgnoreCase: boolean;
  readonly consumerOptional: boolean;
  readonly credentialClaim: readonly string[];
  readonly groupsClaim: readonly string[] | null;
}

/** Consumer lookups prepared once per configuration. */
export class ConsumerDirectory {
  readonly #byId = new Map<string, Consumer>();
  readonly #byUsername = new Map<string, Consumer>();
  readonly #byUsernameLower = new Map<string, Consumer>();
  readonly #byCustomId = new Map<string, Consumer>();

  constructor(consumers: readonly Consumer[]) {
    for (const c of consumers) {
      this.#byId.set(c.id, c);
      if (c.username !== null) {
        this.#byUsername.set(c.username, c);
        if (!this.#byUsernameLower.has(c.username.toLowerCase())) this.#byUsernameLower.set(c.username.toLowerCase(), c);
      }
      if (c.custom_id !== null) this.#byCustomId.set(c.custom_id, c);
    }
  }

  find(value: string, by: IdentityRules['consumerBy'], ignoreCase: boolean): Consumer | null {
    for (const field of by) {
      const found =
        field === 'id'
          ? this.#byId.get(value.toLowerCase())
          : field === 'custom_id'
            ? this.#byCustomId.get(value)
            : ignoreCase
              ? this.#byUsernameLower.get(value.toLowerCase())
              : this.#byUsername.get(value);
      if (found !== undefined) return found;
    }
    return null;
  }
}

const scalar = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);

/** The identity a token establishes; throws `consumer_not_found` when a consumer is required and missing. */
export function resolveIdentity(claims: Claims, rules: IdentityRules, consumers: ConsumerDirectory): Identity {
  let consumer: Consumer | null = null;
  if (rules.consumerClaims !== null) {
    let tried: string | null = null;
    for (const path of rules.consumerClaims) {
      const value = scalar(claimAt(claims, path));
      if (value === null) continue;
      tried = path.join('.');
      consumer = consumers.find(value, rules.consumerBy, rules.usernameIgnoreCase);
      if (consumer !== null) break;
    }
    if (consumer === null && !rules.consumerOptional) {
      throw new AuthFailure('consumer_not_found', tried === null ? 'no consumer claim in the token' : `no consumer matches claim ${tried}`);
    }
  }
  const credential = scalar(claimAt(claims, rules.credentialClaim));
  const groups = rules.groupsClaim === null ? null : [...claimValues(claimAt(claims, rules.groupsClaim))];
  return { consumer, credentialId: credential, groups, anonymous: false };
}

/** A header-safe rendering of a claim value: scalars as text, arrays joined with ", ", objects as JSON. */
export function headerValue(value: unknown): string | null {
  let text: string | null;
  if (value === undefined || value === null) text = null;
  else if (Array.isArray(value)) text = value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(', ');
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = scalar(value);
  // A claim must never be able to inject a header line (or make node reject the header).
  // eslint-disable-next-line no-control-regex
  return text === null ? null : text.replace(/[\u0000-\u001f\u007f]/g, '').replace(/[^\u0000-\u00ff]/g, '?');
}

/** Writes `upstream_headers_claims` → `upstream_headers_names`. */
export function applyClaimHeaders(headers: HeaderMap, claims: Claims, pairs: ReadonlyArray<readonly [claim: string, header: string]>): void {
  for (const [claim, header] of pairs) {
    const value = headerValue(Object.hasOwn(claims, claim) ? claims[claim] : undefined);
    if (value !== null) headers[header] = value;
  }
}

/** Parses `upstream_access_token_header` (`authorization:bearer`) into a header name and a value prefix. */
export function parseTokenHeader(spec: string | null): { name: string; prefix: string } | null {
  if (spec === null) return null;
  const [name, scheme] = spec.split(':') as [string, string | undefined];
  const schemeText = scheme === undefined ? '' : scheme.toLowerCase() === 'bearer' ? 'Bearer ' : `${scheme} `;
  return { name: name.toLowerCase(), prefix: schemeText };
}
