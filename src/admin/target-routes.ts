/**
 * An upstream's targets, as Kong 3.x exposes them (`kong/api/routes/upstreams.lua`, `targets.lua`):
 *
 *   GET    /upstreams/{u}/targets                  200 { data, next }, newest first (Kong's page_for_upstream)
 *   POST   /upstreams/{u}/targets                  201 target; 409 when the upstream has that address already
 *   GET    /upstreams/{u}/targets/all              200 { data, next }, in the order they were added
 *   GET    /upstreams/{u}/targets/{target or id}   200 target | 404
 *   PATCH  /upstreams/{u}/targets/{target or id}   200 target | 404
 *   PUT    /upstreams/{u}/targets/{target or id}   200 target | 404: an update like PATCH, never a create (as Kong)
 *   DELETE /upstreams/{u}/targets/{target or id}   204 | 404: the target must exist (unlike other deletes, as Kong)
 *
 * An unknown upstream, or a target of another upstream, is 404 everywhere; PUT, PATCH and DELETE on
 * the collection are 405. Kong disables `/targets` itself (404), so does the admin handler. A target
 * is written `host[:port]` and stored as Kong stores it, `host:8000` without a port. In the URL, a
 * UUID is the id; anything else is the address as stored, or failing that as written
 * (`/targets/10.0.0.1` finds `10.0.0.1:8000`, where Kong wants the stored form).
 */
import type { Config, Target } from '../config/types.js';
import { formatTargetAddress } from '../config/target-address.js';
import type { ConfigManager } from '../store/config-manager.js';
import { AdminError } from './admin-error.js';
import { appendEntity, checkSameId, entityBody, indexOfId, listOf, patchEntity, rejection } from './entity-changes.js';
import { findEntity, KINDS } from './entity-kinds.js';
import type { Answer } from './entity-routes.js';
import { methodNotAllowed } from './entity-routes.js';
import { filterByTags, paginate } from './pagination.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PLAIN = { privateKeys: false } as const;

/** What Kong's targets DAO answers for an address it cannot parse, before any other check. */
const INVALID_TARGET = 'Invalid target; not a valid hostname or ip address';

function notFound(): AdminError {
  return new AdminError('not found', 'Not found');
}

export const present = (target: Target): Record<string, unknown> => KINDS.targets.present({ ...target }, PLAIN);

/** The target `key` names among `targets`: by id (a UUID), else by address as stored, else as written. */
export function findTarget(targets: readonly Target[], key: string): Target | undefined {
  if (UUID.test(key)) return targets.find((t) => t.id === key.toLowerCase());
  const stored = formatTargetAddress(key);
  return targets.find((t) => t.target === key) ?? (stored === null ? undefined : targets.find((t) => t.target === stored));
}

export class TargetRoutes {
  readonly #manager: ConfigManager;
  readonly #current: () => Config;

  constructor(manager: ConfigManager, current: () => Config) {
    this.#manager = manager;
    this.#current = current;
  }

  /** `/upstreams/{upstreamKey}/targets/{...rest}`. */
  async handle(method: string, upstreamKey: string, rest: readonly string[], query: URLSearchParams, path: string, body: () => Promise<unknown>): Promise<Answer> {
    const config = this.#current();
    const upstream = findEntity(config, KINDS.upstreams, upstreamKey);
    if (upstream === null || rest.length > 1) throw notFound();
    const targets = config.targets.filter((t) => t.upstream === upstream.id);
    const read = method === 'GET' || method === 'HEAD';
    const [key] = rest;
    if (key === undefined) {
      if (read) return list([...targets].reverse(), query, path);
      if (method === 'POST') return this.#create(upstream.id, await body());
      throw methodNotAllowed();
    }
    if (key === 'all') {
      if (!read) throw methodNotAllowed();
      return list(targets, query, path);
    }
    const target = findTarget(targets, key);
    if (target === undefined) throw notFound();
    switch (method) {
      case 'GET':
      case 'HEAD':
        return { status: 200, body: present(target) };
      case 'PATCH':
      case 'PUT':
        return this.#update(target.id, await body());
      case 'DELETE':
        return this.#delete(target.id);
      default:
        throw methodNotAllowed();
    }
  }

  async #create(upstreamId: string, raw: unknown): Promise<Answer> {
    const fields = entityBody(raw);
    if (typeof fields.target === 'string' && formatTargetAddress(fields.target) === null) {
      throw new AdminError('schema violation', `schema violation (target: ${INVALID_TARGET})`, { errors: [{ path: 'target', message: INVALID_TARGET }] });
    }
    // The URL's upstream, whatever the body says (Kong's nested POST sets the foreign key).
    fields.upstream = upstreamId;
    let prefix = '';
    const result = await this.#manager.change((doc) => {
      const { id, index } = appendEntity(doc, KINDS.targets, fields);
      prefix = `targets[${index}]`;
      return { value: id };
    });
    if (!result.ok) throw rejection(result.errors, prefix, 'write');
    return { status: 201, body: this.#presentId(result.config, result.value) };
  }

  async #update(id: string, raw: unknown): Promise<Answer> {
    const patch = entityBody(raw);
    checkSameId(patch, id);
    let prefix = '';
    const result = await this.#manager.change((doc) => {
      const index = indexOfId(doc, KINDS.targets, id);
      const list = listOf(doc, KINDS.targets);
      const previous = list[index];
      if (previous === undefined) throw notFound(); // deleted by a change queued before this one
      list[index] = patchEntity(previous, patch, KINDS.targets);
      prefix = `targets[${index}]`;
      return { value: id };
    });
    if (!result.ok) throw rejection(result.errors, prefix, 'write');
    return { status: 200, body: this.#presentId(result.config, id) };
  }

  async #delete(id: string): Promise<Answer> {
    const result = await this.#manager.change((doc) => {
      const index = indexOfId(doc, KINDS.targets, id);
      if (index >= 0) listOf(doc, KINDS.targets).splice(index, 1);
      return { value: null };
    });
    if (!result.ok) throw rejection(result.errors, '', 'delete', KINDS.targets);
    return { status: 204 };
  }

  #presentId(config: Config, id: string): Record<string, unknown> {
    const target = config.targets.find((t) => t.id === id);
    if (target === undefined) throw notFound();
    return present(target);
  }
}

function list(targets: readonly Target[], query: URLSearchParams, path: string): Answer {
  const page = paginate(filterByTags(targets, query), query, path);
  return { status: 200, body: { ...page, data: page.data.map(present) } };
}
