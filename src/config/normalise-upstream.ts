/** Upstreams and targets from validated drafts: Kong's shorthands applied, references as ids, targets in their stored form. */
import type { TargetDraft, UpstreamDraft } from './collect.js';
import { effectiveBalancing } from './checks/upstream.js';
import { formatTargetAddress } from './target-address.js';
import type { UpstreamInput, TargetInput } from './schemas/upstream.js';
import type { Healthchecks, Target, Upstream } from './types.js';

function certificateId(ref: UpstreamInput['client_certificate']): string | null {
  if (ref === undefined) return null;
  return (typeof ref === 'string' ? ref : ref.id).toLowerCase();
}

export function normaliseUpstream(draft: UpstreamDraft): Upstream {
  const raw = draft.raw as UpstreamInput;
  const balancing = effectiveBalancing(draft.raw);
  const checks = raw.healthchecks as unknown as Omit<Healthchecks, 'active'> & { active: Omit<Healthchecks['active'], 'https_sni' | 'headers'> & { https_sni?: string; headers?: Record<string, string[]> } };
  return {
    id: draft.id,
    name: raw.name,
    ...balancing,
    // Header names are case-insensitive: stored lower-cased, as route headers are.
    hash_on_header: raw.hash_on_header?.toLowerCase() ?? null,
    hash_fallback_header: raw.hash_fallback_header?.toLowerCase() ?? null,
    hash_on_cookie: raw.hash_on_cookie ?? null,
    hash_on_cookie_path: raw.hash_on_cookie_path,
    hash_on_query_arg: raw.hash_on_query_arg ?? null,
    hash_fallback_query_arg: raw.hash_fallback_query_arg ?? null,
    hash_on_uri_capture: raw.hash_on_uri_capture ?? null,
    hash_fallback_uri_capture: raw.hash_fallback_uri_capture ?? null,
    slots: raw.slots,
    healthchecks: {
      ...checks,
      active: { ...checks.active, https_sni: checks.active.https_sni ?? null, headers: checks.active.headers ?? null },
    },
    host_header: raw.host_header ?? null,
    client_certificate: certificateId(raw.client_certificate),
    use_srv_name: raw.use_srv_name,
    tags: raw.tags,
  };
}

export function normaliseTarget(draft: TargetDraft): Target {
  const raw = draft.raw as Omit<TargetInput, 'upstream'>;
  return {
    id: draft.id,
    upstream: draft.upstreamId ?? '',
    target: formatTargetAddress(raw.target) ?? raw.target,
    weight: raw.weight,
    tags: raw.tags,
  };
}
