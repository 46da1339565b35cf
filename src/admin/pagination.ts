/**
 * Kong's list pagination: `?size=N` (1–1000, default 100) and an opaque `offset` from the previous
 * page's `next`/`offset`. The offset encodes a position in the current list; a list that changed in
 * between may skip or repeat an entry, as with any offset pagination.
 */
import { AdminError } from './admin-error.js';

export interface Page<T> {
  readonly data: readonly T[];
  readonly next: string | null;
  readonly offset?: string;
}

const MAX_SIZE = 1000;

/** One page of `items` for the query; `path` is the list's own path (for `next`). */
export function paginate<T>(items: readonly T[], query: URLSearchParams, path: string): Page<T> {
  const sizeText = query.get('size');
  const size = sizeText === null ? 100 : Number(sizeText);
  if (!Number.isInteger(size) || size < 1 || size > MAX_SIZE) throw new AdminError('invalid size', `size must be an integer between 1 and ${MAX_SIZE}`);
  const offsetText = query.get('offset');
  let start = 0;
  if (offsetText !== null) {
    const decoded = Buffer.from(offsetText, 'base64url').toString('utf8');
    start = Number(decoded);
    if (!/^\d+$/.test(decoded) || start > items.length) throw new AdminError('invalid offset', `'${offsetText}' is not a valid offset for this page`);
  }
  const end = start + size;
  if (end >= items.length) return { data: items.slice(start), next: null };
  const offset = Buffer.from(String(end), 'utf8').toString('base64url');
  const params = new URLSearchParams(query);
  params.set('offset', offset);
  return { data: items.slice(start, end), next: `${path}?${params.toString()}`, offset };
}

/** Kong's `?tags=a,b` (every tag) and `?tags=a/b` (any tag) filter. */
export function filterByTags<T extends { readonly tags: readonly string[] }>(items: readonly T[], query: URLSearchParams): readonly T[] {
  const tags = query.get('tags');
  if (tags === null || tags === '') return items;
  if (tags.includes(',') && tags.includes('/')) throw new AdminError('invalid options', "tags: combine with ',' (all) or '/' (any), not both");
  const wanted = tags.split(/[,/]/);
  const all = !tags.includes('/');
  return items.filter((item) => (all ? wanted.every((t) => item.tags.includes(t)) : wanted.some((t) => item.tags.includes(t))));
}
