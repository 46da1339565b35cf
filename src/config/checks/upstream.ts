/**
 * Upstream and target rules JSON schema cannot say, as Kong's `upstreams.lua` entity checks and
 * shorthands: the name is a host name, the hash fields that each `hash_on`/`hash_fallback` needs,
 * which fallbacks are allowed, and the `algorithm`/`hash_on` shorthand that ties the two together.
 */
import type { HashOn, UpstreamAlgorithm } from '../types.js';
import { type Raw, stringField, type TargetDraft, type UpstreamDraft } from '../collect.js';
import type { ErrorList } from '../errors.js';
import { formatTargetAddress, isValidUpstreamName } from '../target-address.js';
import { joinPath } from '../paths.js';

export interface Balancing {
  readonly algorithm: UpstreamAlgorithm;
  readonly hash_on: HashOn;
  readonly hash_fallback: HashOn;
}

/**
 * `algorithm` and `hash_on` after Kong's shorthands, applied to what was written (before defaults):
 * `least-connections` and `latency` clear `hash_on`; then a written `hash_on` other than none makes
 * the algorithm `consistent-hashing`, and a written `none` makes it `round-robin`.
 */
export function effectiveBalancing(raw: Raw): Balancing {
  let algorithm = (stringField(raw, 'algorithm') ?? 'round-robin') as UpstreamAlgorithm;
  let hashOn = stringField(raw, 'hash_on') as HashOn | undefined;
  if (algorithm === 'least-connections' || algorithm === 'latency') hashOn = undefined;
  else if (hashOn !== undefined) algorithm = hashOn === 'none' ? 'round-robin' : 'consistent-hashing';
  return { algorithm, hash_on: hashOn ?? 'none', hash_fallback: (stringField(raw, 'hash_fallback') ?? 'none') as HashOn };
}

/** The field a hash source needs, for hash_on and for hash_fallback (the cookie is shared). */
const NEEDS: Readonly<Partial<Record<HashOn, readonly [string, string]>>> = {
  header: ['hash_on_header', 'hash_fallback_header'],
  cookie: ['hash_on_cookie', 'hash_on_cookie'],
  query_arg: ['hash_on_query_arg', 'hash_fallback_query_arg'],
  uri_capture: ['hash_on_uri_capture', 'hash_fallback_uri_capture'],
};

/** Fallbacks Kong refuses for a given hash_on: itself, except header/query_arg/uri_capture which may repeat with another name. */
function fallbackAllowed(hashOn: HashOn, fallback: HashOn): boolean {
  if (hashOn === 'none' || hashOn === 'cookie') return fallback === 'none';
  if (hashOn === 'consumer' || hashOn === 'ip' || hashOn === 'path') return fallback !== hashOn;
  return true;
}

export function checkUpstream(upstream: UpstreamDraft, errors: ErrorList): void {
  const { raw, path } = upstream;
  const name = stringField(raw, 'name');
  if (name !== undefined) {
    const problem = isValidUpstreamName(name);
    if (problem !== null) errors.add(joinPath(path, 'name'), problem);
  }
  const hostHeader = stringField(raw, 'host_header');
  if (hostHeader !== undefined && formatTargetAddress(hostHeader) === null) errors.add(joinPath(path, 'host_header'), 'must be a valid host with an optional port');

  const { hash_on: hashOn, hash_fallback: fallback } = effectiveBalancing(raw);
  if (!fallbackAllowed(hashOn, fallback)) {
    errors.add(joinPath(path, 'hash_fallback'), hashOn === 'none' || hashOn === 'cookie' ? `must be 'none' when hash_on is '${hashOn}'` : `must not be '${fallback}' when hash_on is '${hashOn}'`);
  }
  const need = (source: HashOn, which: 0 | 1): void => {
    const field = NEEDS[source]?.[which];
    if (field !== undefined && raw[field] === undefined) errors.add(joinPath(path, field), `required field missing (hash_${which === 0 ? 'on' : 'fallback'} is '${source}')`);
  };
  need(hashOn, 0);
  need(fallback, 1);
  for (const [a, b] of [['hash_on_header', 'hash_fallback_header'], ['hash_on_query_arg', 'hash_fallback_query_arg'], ['hash_on_uri_capture', 'hash_fallback_uri_capture']] as const) {
    const first = stringField(raw, a);
    const second = stringField(raw, b);
    // Header names are case-insensitive; Kong compares them as written, we compare what they mean.
    const same = first !== undefined && second !== undefined && (a === 'hash_on_header' ? first.toLowerCase() === second.toLowerCase() : first === second);
    if (same) errors.add(joinPath(path, b), `must be different from ${a}`);
  }
}

export function checkTarget(target: TargetDraft, errors: ErrorList): void {
  const text = stringField(target.raw, 'target');
  if (text !== undefined && formatTargetAddress(text) === null) {
    errors.add(joinPath(target.path, 'target'), `Invalid target ('${text}'); not a valid hostname or ip address`);
  }
}
