/**
 * Kong's verdict and headers from the usage of each window (rate-limiting/handler.lua): a window
 * with nothing left stops the request; `X-RateLimit-Limit/Remaining-<Period>` for every window,
 * and `RateLimit-Limit/Remaining/Reset` for the one with the fewest requests left (on a tie, the
 * longer window), `Retry-After` when stopped. Remaining counts this request, except in a window
 * other than the one that stopped it (Kong's arithmetic, kept so that clients see the same numbers).
 */
import { resetSeconds, type Period } from './windows.js';

export interface WindowUsage {
  readonly period: Period;
  readonly limit: number;
  /** Requests counted before this one. */
  readonly used: number;
}

export interface LimitVerdict {
  readonly stopped: boolean;
  /** Lower-case names; empty with hide_client_headers. */
  readonly headers: Record<string, string>;
}

/** `usages` in PERIODS order (shortest first). */
export function judge(usages: readonly WindowUsage[], nowMs: number, hideHeaders: boolean): LimitVerdict {
  let stop: Period | null = null;
  // Several windows exhausted: the longest one stops it (Kong's is whichever its table walk sees last).
  for (const u of usages) if (u.limit - u.used <= 0) stop = u.period;
  const headers: Record<string, string> = {};
  if (hideHeaders) return { stopped: stop !== null, headers };
  let chosen: { limit: number; remaining: number; period: Period } | null = null;
  for (const u of usages) {
    let remaining = u.limit - u.used;
    if (stop === null || stop === u.period) remaining -= 1;
    remaining = Math.max(0, remaining);
    // Shortest first, so "later and equal" is the longer window.
    if (chosen === null || remaining <= chosen.remaining) chosen = { limit: u.limit, remaining, period: u.period };
    headers[`x-ratelimit-limit-${u.period}`] = String(u.limit);
    headers[`x-ratelimit-remaining-${u.period}`] = String(remaining);
  }
  if (chosen !== null) {
    const reset = String(resetSeconds(chosen.period, nowMs));
    headers['ratelimit-limit'] = String(chosen.limit);
    headers['ratelimit-remaining'] = String(chosen.remaining);
    headers['ratelimit-reset'] = reset;
    if (stop !== null) headers['retry-after'] = reset;
  }
  return { stopped: stop !== null, headers };
}
