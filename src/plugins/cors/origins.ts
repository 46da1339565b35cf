/**
 * Kong's origin matching for cors (handler.lua configure_origin): `*` or no origins allow all; one
 * plain origin is sent as it is; otherwise the request's origin, normalised (scheme, host, port
 * without the scheme's default), is compared with each exact origin, or matched by each regular
 * expression (anchored at both ends, as Kong anchors them) against its host, or against the whole
 * origin when the expression has a `:`.
 */

type Entry = { readonly kind: 'exact'; readonly domain: string } | { readonly kind: 'regex'; readonly regex: RegExp; readonly byHost: boolean };

export interface NormalisedOrigin {
  readonly domain: string;
  readonly host: string;
}

const ORIGIN = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/:?#]+)(?::(\d+))?/;

/** An origin as Kong's normalize_origin makes it; something that is no URL stays as it is. */
export function normaliseOrigin(origin: string): NormalisedOrigin {
  const parsed = ORIGIN.exec(origin);
  if (parsed === null) return { domain: origin, host: origin };
  const [, scheme, host, rawPort] = parsed as unknown as [string, string, string, string | undefined];
  const port = (scheme === 'http' && rawPort === '80') || (scheme === 'https' && rawPort === '443') ? undefined : rawPort;
  return { domain: `${scheme}://${host}${port === undefined ? '' : `:${port}`}`, host };
}

export type OriginPolicy =
  | { readonly kind: 'any' }
  | { readonly kind: 'fixed'; readonly origin: string }
  | { readonly kind: 'list'; readonly entries: readonly Entry[]; readonly any: boolean };

export function compileOrigins(origins: readonly string[] | null): OriginPolicy {
  const list = origins ?? [];
  if (list.length === 0 || (list.length === 1 && list[0] === '*')) return { kind: 'any' };
  if (list.length === 1 && /^[A-Za-z0-9.:/-]+$/.test(list[0]!)) return { kind: 'fixed', origin: list[0]! };
  const entries = list
    .filter((entry) => entry !== '*')
    .map((entry): Entry => {
      if (!/[^A-Za-z0-9.:/-]/.test(entry)) return { kind: 'exact', domain: normaliseOrigin(entry).domain };
      let pattern = entry.endsWith('$') ? entry : `${entry}$`;
      if (pattern.startsWith('^')) pattern = pattern.slice(1);
      return { kind: 'regex', regex: new RegExp(`^(?:${pattern})`), byHost: !entry.includes(':') };
    });
  return { kind: 'list', entries, any: list.includes('*') };
}

/** The origin to allow for `requestOrigin` under a list, or null. */
export function matchOrigin(entries: readonly Entry[], requestOrigin: string): string | null {
  const origin = normaliseOrigin(requestOrigin);
  for (const entry of entries) {
    const found = entry.kind === 'exact' ? origin.domain === entry.domain : entry.regex.test(entry.byHost ? origin.host : origin.domain);
    if (found) return origin.domain;
  }
  return null;
}
