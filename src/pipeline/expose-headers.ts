import type { HeaderMap } from './context.js';

/**
 * Adds `names` to a response's Access-Control-Expose-Headers, keeping what is listed already (its
 * spelling and order) and leaving a `*` alone: how the auth plugins (and cors for them) let a
 * browser's script read a challenge or a DPoP nonce. `separator` joins new names to the list.
 */
export function exposeHeaders(headers: HeaderMap, names: readonly string[], separator = ', '): void {
  const existing = headers['access-control-expose-headers'];
  const current = (Array.isArray(existing) ? existing.join(', ') : (existing ?? '')).trim();
  if (current === '*') return;
  const listed = new Set(current.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== ''));
  const missing = names.filter((h) => !listed.has(h.toLowerCase()));
  if (missing.length > 0) headers['access-control-expose-headers'] = [current, ...missing].filter((h) => h !== '').join(separator);
}
