/**
 * The admin API is root-equivalent (it can point routes anywhere and read every key), so with
 * `--admin-token` every request must carry it: `Authorization: Bearer <token>` or Kong's
 * `Kong-Admin-Token: <token>`. Both sides are hashed first so the comparison is constant-time
 * whatever the lengths.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** The token the request presents, or null. */
export function presentedToken(headers: IncomingHttpHeaders): string | null {
  const kong = headers['kong-admin-token'];
  if (typeof kong === 'string' && kong !== '') return kong;
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(headers.authorization ?? '');
  return match?.[1] ?? null;
}

/** Whether `headers` carry `expected`; always true when no token is configured. */
export function checkAdminToken(headers: IncomingHttpHeaders, expected: string | null): boolean {
  if (expected === null) return true;
  const given = presentedToken(headers);
  // Compare even when nothing was presented, so timing does not tell "absent" from "wrong".
  return timingSafeEqual(digest(given ?? ''), digest(expected)) && given !== null;
}
