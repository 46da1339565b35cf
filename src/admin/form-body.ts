/**
 * Kong's form encoding of entities: `name=x&url=http://…`, nested fields with dots
 * (`config.minute=5`, `service.id=…`), lists by repetition or `[]` (`paths[]=/a&paths[]=/b`).
 * Form values are strings; `true`/`false` and integers are read as such except in fields that are
 * always strings (names, ids, paths, hosts…), so `custom_id=42` stays a string.
 */
const STRING_FIELDS = new Set(['id', 'name', 'username', 'custom_id', 'instance_name', 'tags', 'paths', 'hosts', 'methods', 'snis', 'cert', 'key', 'url', 'host', 'path']);

function coerce(key: string, value: string): unknown {
  if (STRING_FIELDS.has(key)) return value;
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^-?\d{1,15}$/.test(value)) return Number(value);
  return value;
}

/** The object a form body describes. */
export function parseForm(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const isList = rawKey.endsWith('[]');
    const parts = (isList ? rawKey.slice(0, -2) : rawKey).split('.');
    const leaf = parts.pop() ?? '';
    let node = root;
    for (const part of parts) {
      const next = node[part];
      node = (typeof next === 'object' && next !== null && !Array.isArray(next) ? next : (node[part] = {})) as Record<string, unknown>;
    }
    const item = coerce(leaf, value);
    const existing = node[leaf];
    if (Array.isArray(existing)) existing.push(item);
    else if (existing !== undefined) node[leaf] = [existing, item];
    else node[leaf] = isList || (STRING_FIELDS.has(leaf) && ['tags', 'paths', 'hosts', 'methods', 'snis'].includes(leaf)) ? [item] : item;
  }
  return root;
}
