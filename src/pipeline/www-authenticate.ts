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
  // Control characters cannot appear in a header value at all; drop them rather than fail.
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/["\\]/g, (c) => `\\${c}`);
}
