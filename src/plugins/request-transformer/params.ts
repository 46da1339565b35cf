/**
 * Form-encoded parameters as OpenResty's ngx.decode_args and ngx.encode_args see them, which is how
 * Kong's request-transformer reads and rewrites a query string or a form body: a repeated name is
 * a list, a name without `=` is `true`, and encoding escapes like ngx.escape_uri (everything but
 * letters, digits and `-._~`; a space is `%20`).
 */

/** One parameter's value: a string, `true` for a bare name, or the values of a repeated name. */
export type ParamValue = string | true | Array<string | true>;

/** Parameters in their first-seen order. */
export type Params = Map<string, ParamValue>;

function decode(text: string): string {
  const plus = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    // A broken escape stays as it is, as ngx.unescape_uri leaves it.
    return plus;
  }
}

/** ngx.decode_args. */
export function decodeParams(encoded: string): Params {
  const params: Params = new Map();
  if (encoded === '') return params;
  for (const pair of encoded.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq));
    if (name === '') continue;
    const value: string | true = eq === -1 ? true : decode(pair.slice(eq + 1));
    const seen = params.get(name);
    if (seen === undefined) params.set(name, value);
    else if (Array.isArray(seen)) seen.push(value);
    else params.set(name, [seen, value]);
  }
  return params;
}

/** ngx.escape_uri for a component. */
export function escapeComponent(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** ngx.encode_args. */
export function encodeParams(params: Params): string {
  const pairs: string[] = [];
  const push = (name: string, value: string | true): void => {
    pairs.push(value === true ? escapeComponent(name) : `${escapeComponent(name)}=${escapeComponent(value)}`);
  };
  for (const [name, value] of params) {
    if (Array.isArray(value)) for (const each of value) push(name, each);
    else push(name, value);
  }
  return pairs.join('&');
}

/** Kong's append_value: a string becomes a list with the new value; a list grows; anything else becomes a one-value list. */
export function appendValue<T>(current: unknown, value: T): unknown[] {
  if (typeof current === 'string') return [current, value];
  if (Array.isArray(current)) {
    current.push(value);
    return current;
  }
  return [value];
}
