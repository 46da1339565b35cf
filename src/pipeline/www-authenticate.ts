import type { Challenge } from './gateway-error.js';

/**
 * Serialises a challenge as RFC 7235 §4.1 wants it: `Scheme k="v", k2="v2"` — comma-separated
 * (Kong once used spaces, Kong/kong#14429), every value a quoted-string with `"` and `\` escaped.
 * Parameters whose value is undefined are left out, so "no `error` when no credentials were sent"
 * is simply an absent key.
 */
export function formatChallenge(challenge: Challenge): string {
  const params: string[] = [];
  for (const [key, value] of Object.entries(challenge.params)) {
    if (value === undefined) continue;
    params.push(`${key}="${quote(value)}"`);
  }
  return params.length === 0 ? challenge.scheme : `${challenge.scheme} ${params.join(', ')}`;
}

function quote(value: string): string {
  // A header value carries printable ASCII and obs-text (U+0080–U+00FF) only: control characters
  // cannot appear in it at all, and Node's writeHead throws (ERR_INVALID_CHAR) on anything above
  // U+00FF (a configured scope such as `読む`). Drop them rather than fail the response.
  return value.replace(/[^\u0020-\u007e\u0080-\u00ff]/g, '').replace(/["\\]/g, (c) => `\\${c}`);
}
