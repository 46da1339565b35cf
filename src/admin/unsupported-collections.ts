/**
 * Kong entity collections Portcullis does not have yet, answered as a Kong gateway with none of them
 * configured: an empty list, 404 for any one of them, 204 for a delete. Tools list them before they do
 * anything (decK's dump stops on an error), so a 404 on the list would stop them. Creating one is
 * refused as a schema violation that says why.
 */
import { AdminError } from './admin-error.js';
import type { Answer } from './entity-routes.js';
import { methodNotAllowed } from './entity-routes.js';
import { paginate } from './pagination.js';

/** Kong's core entities that are not implemented yet. */
export const UNSUPPORTED_COLLECTIONS: readonly string[] = ['vaults', 'keys', 'key-sets'];

export function unsupportedCollection(method: string, segments: readonly string[], query: URLSearchParams, path: string): Answer | null {
  const [collection, key] = segments;
  if (collection === undefined || !UNSUPPORTED_COLLECTIONS.includes(collection)) return null;
  const read = method === 'GET' || method === 'HEAD';
  const refuse = (): never => {
    throw new AdminError('schema violation', `schema violation (Portcullis does not support '${collection}' entities yet)`, {
      errors: [{ path: '', message: `Portcullis does not support '${collection}' entities yet` }],
    });
  };
  if (key === undefined) {
    if (read) return { status: 200, body: paginate([], query, path) };
    if (method === 'POST') return refuse();
    throw methodNotAllowed();
  }
  // One of them, or something below one: there is none.
  if (segments.length === 2 && method === 'DELETE') return { status: 204 };
  if (segments.length === 2 && (method === 'PUT' || method === 'PATCH')) return refuse();
  throw new AdminError('not found', 'Not found');
}
