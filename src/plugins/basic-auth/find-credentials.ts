/**
 * Kong's reading of `Basic` credentials (kong/plugins/basic-auth/access.lua): the scheme is found
 * anywhere in the header (an unanchored `\s*[Bb]asic\s*(.+)`), the rest must be strict base64, and
 * the decoded text splits at its first colon after a non-empty username (`([^:]+):(.*)`).
 */
import type { RequestContext } from '../../pipeline/context.js';

export interface PresentedCredentials {
  readonly username: string;
  readonly password: string;
}

const SCHEME = /\s*[Bb]asic\s*(.+)/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PARTS = /([^:]+):(.*)/;

/** The username and password of a header value, or null when it carries none Kong would read. */
export function parseBasicCredentials(value: string | undefined): PresentedCredentials | null {
  if (value === undefined) return null;
  const encoded = SCHEME.exec(value)?.[1];
  if (encoded === undefined || !BASE64.test(encoded) || encoded.length % 4 === 1) return null;
  const parts = PARTS.exec(Buffer.from(encoded, 'base64').toString('utf8'));
  if (parts === null) return null;
  return { username: parts[1] ?? '', password: parts[2] ?? '' };
}

/** A credentials header (Node keeps the first of repeated ones, as Kong's get_header reads the first). */
export function requestHeader(ctx: RequestContext, name: 'authorization' | 'proxy-authorization'): string | undefined {
  return ctx.request.headers[name];
}
