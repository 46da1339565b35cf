/**
 * Field paths in error messages, written the way a reader points at a decK file:
 * `services[0].routes[1].paths[0]`, `routes[0].headers["x-api-version"]`.
 */

const bareKey = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Appends a property name or an array index to a path. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  const segment = bareKey.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (base === '') return segment.startsWith('[') ? `(root)${segment}` : segment;
  return segment.startsWith('[') ? `${base}${segment}` : `${base}.${segment}`;
}

/**
 * Turns ajv's JSON pointer (`/services/0/name`) into a readable path. The data is walked alongside
 * so that a numeric key of an object (a header called "0") is not mistaken for an array index.
 */
export function pointerToPath(base: string, pointer: string, data: unknown): string {
  if (pointer === '') return base;
  let path = base;
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) {
      const index = Number(key);
      path = joinPath(path, index);
      node = node[index];
    } else {
      path = joinPath(path, key);
      node = isRecord(node) ? node[key] : undefined;
    }
  }
  return path;
}

/** A plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
