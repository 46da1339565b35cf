/**
 * Kong's rate-limiting windows: fixed, aligned to the UTC calendar (kong/tools/timestamp.lua), with
 * Kong's counter keys, so that counters in a Redis shared with Kong nodes mean the same thing.
 */
export const PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;
export type Period = (typeof PERIODS)[number];

/** Kong's period lengths in seconds (expiration.lua): a month is 30 days, a year 365, whatever the calendar says. */
export const PERIOD_SECONDS: Readonly<Record<Period, number>> = { second: 1, minute: 60, hour: 3600, day: 86400, month: 2592000, year: 31536000 };

/** The start (ms) of the window of `period` that holds `nowMs`, and when it ends (the next one's start). */
export function windowOf(period: Period, nowMs: number): { readonly startMs: number; readonly endMs: number } {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const day = d.getUTCDate();
  const h = d.getUTCHours();
  const mi = d.getUTCMinutes();
  const s = d.getUTCSeconds();
  switch (period) {
    case 'second':
      return { startMs: Date.UTC(y, mo, day, h, mi, s), endMs: Date.UTC(y, mo, day, h, mi, s + 1) };
    case 'minute':
      return { startMs: Date.UTC(y, mo, day, h, mi), endMs: Date.UTC(y, mo, day, h, mi + 1) };
    case 'hour':
      return { startMs: Date.UTC(y, mo, day, h), endMs: Date.UTC(y, mo, day, h + 1) };
    case 'day':
      return { startMs: Date.UTC(y, mo, day), endMs: Date.UTC(y, mo, day + 1) };
    case 'month':
      return { startMs: Date.UTC(y, mo, 1), endMs: Date.UTC(y, mo + 1, 1) };
    case 'year':
      return { startMs: Date.UTC(y, 0, 1), endMs: Date.UTC(y + 1, 0, 1) };
  }
}

/** Kong's all-zero UUID, standing for "no route" or "no service" in a key. */
const EMPTY_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * Kong's counter key: `ratelimit:<route>:<service>:<identifier>:<window start ms>:<period>`, the
 * route and service of the plugin's own scope (a service-scoped instance counts all its routes
 * together). The scope's part is the instance's, made once: `counterKeyPrefix`.
 */
export function counterKeyPrefix(scope: { readonly route: string | null; readonly service: string | null }): string {
  return `ratelimit:${scope.route ?? EMPTY_UUID}:${scope.service ?? EMPTY_UUID}:`;
}

export function counterKey(prefix: string, identifier: string, period: Period, startMs: number): string {
  return `${prefix}${identifier}:${startMs}:${period}`;
}

/**
 * Seconds until the window ends, as Kong computes RateLimit-Reset: the period's length less the
 * seconds gone (so a month "ends" after 30 days), at least 1.
 */
export function resetSeconds(period: Period, nowMs: number): number {
  const { startMs } = windowOf(period, nowMs);
  return Math.max(1, PERIOD_SECONDS[period] - Math.floor((nowMs - startMs) / 1000));
}
