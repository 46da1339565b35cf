/**
 * Removing one parameter from an `application/x-www-form-urlencoded` string (a query string or a
 * form body) without re-encoding the others: URLSearchParams would rewrite `%20` as `+`, reorder
 * nothing but still change bytes an upstream may sign or compare.
 */

/** `encoded` without every `name=…` pair (names compared after form-decoding, as URLSearchParams reads them). */
export function withoutParameter(encoded: string, name: string): string {
  if (encoded === '') return encoded;
  const kept = encoded.split('&').filter((pair) => decodedName(pair) !== name);
  return kept.join('&');
}

function decodedName(pair: string): string {
  const eq = pair.indexOf('=');
  const raw = (eq === -1 ? pair : pair.slice(0, eq)).replace(/\+/g, ' ');
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // URLSearchParams leaves broken escapes as they are; so does this.
    return raw;
  }
}
