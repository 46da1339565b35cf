/**
 * Warns when the admin API is reachable from other machines without a token: it can reconfigure
 * the gateway and read private keys, so that is almost always a mistake worth shouting about.
 */
import { isIP } from 'node:net';
import { parseListen } from '../server/listen-spec.js';

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === '::1' || bare.startsWith('::ffff:127.');
}

/** The warning to print, or null when every admin listener is loopback or a token is set. */
export function adminExposureWarning(adminListen: string, token: string | null): string | null {
  if (token !== null) return null;
  const exposed = parseListen(adminListen, 'admin-listen').filter((spec) => !isLoopback(spec.host));
  if (exposed.length === 0) return null;
  const where = exposed.map((s) => `${s.host}:${s.port}`).join(', ');
  return `WARNING: the admin API listens on ${where}, which is not loopback, and --admin-token is not set: anyone who can reach it can reconfigure this gateway and read its private keys. Set --admin-token or listen on 127.0.0.1.`;
}
