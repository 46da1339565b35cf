/**
 * The CRUD endpoints of the seven entity collections, with Kong's shapes and status codes:
 *
 *   GET    /{entities}                     200 { data, next }      (size, offset, tags)
 *   POST   /{entities}                     201 entity
 *   GET    /{entities}/{id or name}        200 entity | 404
 *   PATCH  /{entities}/{id or name}        200 entity | 404
 *   PUT    /{entities}/{id or name}        200 entity (created when absent)
 *   DELETE /{entities}/{id or name}        204 (also when absent, as Kong)
 *   GET|POST /{services|routes|consumers}/{x}/{routes|plugins}   nested lists and creation
 *   GET|POST /consumers/{c}/{key-auth|acls}, and GET|PATCH|PUT|DELETE /consumers/{c}/{key-auth|acls}/{x}:
 *            the consumer's credentials, found among its own (by id, the key, or the group)
 *   GET|POST /consumer_groups/{g}/plugins, GET|PATCH|PUT|DELETE /consumer_groups/{g}/plugins/{p}:
 *            the group's plugins (Kong Enterprise); membership is in `consumer-group-routes.ts`
 *
 * (An upstream's targets have endpoints of their own: `target-routes.ts`.) Deleting an entity deletes
 * what cascades from it in Kong: the plugins scoped to it, an upstream's targets.
 *
 * Every write is one `ConfigManager.change`: the whole new configuration is validated, saved and
 * made live before the answer, or nothing changes. A creation is `ConfigManager.create`, which
 * checks and writes a new consumer or credential on its own when that decides the same (see
 * store/incremental-change.ts), and is that `change` otherwise.
 */
import { randomUUID } from 'node:crypto';
import { CREDENTIAL_KEYS, CREDENTIAL_KINDS } from '../config/credential-kinds.js';
import type { Config } from '../config/types.js';
import type { Section } from '../store/entity-keys.js';
import type { ConfigManager } from '../store/config-manager.js';
import { AdminError } from './admin-error.js';
import {
  appendEntity,
  cascadeDependents,
  cascadePlugins,
  checkSameId,
  entityBody,
  indexOfId,
  keepSniIdentities,
  listOf,
  patchEntity,
  rejection,
} from './entity-changes.js';
import { entitiesOf, findEntity, KINDS, type EntityKind, type PresentOptions } from './entity-kinds.js';
import { filterByTags, paginate } from './pagination.js';

export interface EntityRequest {
  readonly method: string;
  /** Path segments after the collection: [], [key], [key, child]. */
  readonly kind: EntityKind;
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  readonly path: string;
  readonly body: () => Promise<unknown>;
}

export interface Answer {
  readonly status: number;
  readonly body?: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Collections below an entity: URL segment → section. */
const NESTED: Readonly<Record<string, Readonly<Record<string, Section>>>> = {
  services: { routes: 'routes', plugins: 'plugins' },
  routes: { plugins: 'plugins' },
  consumers: { plugins: 'plugins', ...Object.fromEntries(CREDENTIAL_KEYS.map((k) => [CREDENTIAL_KINDS[k].adminPaths.nested, k])) },
  consumer_groups: { plugins: 'plugins' },
};
/** Where a nested entity may be addressed by URL (`/consumers/{c}/key-auth/{x}`), not only listed and created. */
const NESTED_ITEMS: ReadonlySet<Section> = new Set(CREDENTIAL_KEYS);

function notFound(): AdminError {
  return new AdminError('not found', 'Not found');
}

export type ConfigSchemaOf = (plugin: string) => unknown;

export function presentOptions(query: URLSearchParams, configSchemaOf: ConfigSchemaOf, showPrivateKeys: boolean): PresentOptions {
  return { privateKeys: showPrivateKeys || query.get('include_private_keys') === 'true', configSchemaOf };
}

export class EntityRoutes {
  readonly #manager: ConfigManager;
  readonly #current: () => Config;
  readonly #configSchemaOf: ConfigSchemaOf;
  readonly #showPrivateKeys: boolean;

  constructor(manager: ConfigManager, current: () => Config, configSchemaOf: ConfigSchemaOf, showPrivateKeys: boolean) {
    this.#manager = manager;
    this.#current = current;
    this.#configSchemaOf = configSchemaOf;
    this.#showPrivateKeys = showPrivateKeys;
  }

  #present(config: Config, kind: EntityKind, id: string, query: URLSearchParams): unknown {
    const entity = findEntity(config, kind, id);
    if (entity === null) throw notFound();
    return kind.present(entity, presentOptions(query, this.#configSchemaOf, this.#showPrivateKeys));
  }

  async handle(request: EntityRequest): Promise<Answer> {
    const { method, kind, segments } = request;
    const [key, child, childKey, ...rest] = segments;
    if (rest.length > 0) throw notFound();
    if (key === undefined) {
      if (method === 'GET' || method === 'HEAD') return this.#list(request, kind, null);
      if (method === 'POST') return this.#create(request, kind, null);
      throw methodNotAllowed();
    }
    if (child !== undefined) {
      const childSection = NESTED[kind.section]?.[child];
      if (childSection === undefined) throw notFound();
      const parent = findEntity(this.#current(), kind, key);
      if (parent === null || kind.pluginScope === null) throw notFound();
      const childKind = KINDS[childSection];
      const link = { field: kind.pluginScope, id: parent.id };
      if (childKey !== undefined) {
        if (!NESTED_ITEMS.has(childSection) && !(kind.section === 'consumer_groups' && childSection === 'plugins')) throw notFound();
        return this.#nestedItem(request, childKind, link, childKey);
      }
      if (method === 'GET' || method === 'HEAD') return this.#list(request, childKind, link);
      if (method === 'POST') return this.#create(request, childKind, link);
      throw methodNotAllowed();
    }
    switch (method) {
      case 'GET':
      case 'HEAD':
        return { status: 200, body: this.#present(this.#current(), kind, key, request.query) };
      case 'PATCH':
        return this.#update(request, kind, key, 'patch');
      case 'PUT':
        return this.#update(request, kind, key, 'put');
      case 'DELETE':
        return this.#delete(kind, key);
      default:
        throw methodNotAllowed();
    }
  }

  /** `/consumers/{c}/key-auth/{x}`: the entity among the parent's own, by id or the kind's name fields. */
  async #nestedItem(request: EntityRequest, kind: EntityKind, link: { field: string; id: string }, key: string): Promise<Answer> {
    const lower = key.toLowerCase();
    const fields = kind.scopedNameFields ?? kind.nameFields;
    const found = entitiesOf(this.#current(), kind).find((e) => e[link.field] === link.id && (e.id === lower || fields.some((f) => e[f] === key))) ?? null;
    switch (request.method) {
      case 'GET':
      case 'HEAD':
        if (found === null) throw notFound();
        return { status: 200, body: this.#present(this.#current(), kind, found.id, request.query) };
      case 'PATCH':
        if (found === null) throw notFound();
        return this.#update(request, kind, found.id, 'patch');
      case 'PUT':
        return found === null ? this.#update(request, kind, key, 'put', link, fields[0]) : this.#update(request, kind, found.id, 'put', link);
      case 'DELETE':
        if (found === null) throw notFound();
        return this.#delete(kind, found.id);
      default:
        throw methodNotAllowed();
    }
  }

  #list(request: EntityRequest, kind: EntityKind, link: { field: string; id: string } | null): Answer {
    let items = entitiesOf(this.#current(), kind);
    if (link !== null) items = items.filter((e) => e[link.field] === link.id);
    // Kong's one list filter besides tags: `/consumers?custom_id=X` (go-kong's GetByCustomID).
    const customId = kind.section === 'consumers' ? request.query.get('custom_id') : null;
    if (customId !== null) items = items.filter((e) => e.custom_id === customId);
    const tagged = filterByTags(items as ReadonlyArray<{ id: string; tags: readonly string[] } & Record<string, unknown>>, request.query);
    const page = paginate(tagged, request.query, request.path);
    const options = presentOptions(request.query, this.#configSchemaOf, this.#showPrivateKeys);
    return { status: 200, body: { ...page, data: page.data.map((e) => kind.present(e, options)) } };
  }

  async #create(request: EntityRequest, kind: EntityKind, link: { field: string; id: string } | null): Promise<Answer> {
    const body = entityBody(await request.body(), kind);
    if (link !== null) body[link.field] = link.id;
    kind.generate?.(body);
    const entity = { ...body, id: typeof body.id === 'string' ? body.id.toLowerCase() : randomUUID() };
    let prefix = '';
    const result = await this.#manager.create(kind.section, entity, (doc) => {
      const { id, index } = appendEntity(doc, kind, entity);
      prefix = `${kind.section}[${index}]`;
      return { value: id };
    });
    if (!result.ok) throw rejection(result.errors, prefix, 'write');
    return { status: 201, body: this.#present(result.config, kind, result.value, request.query) };
  }

  async #update(request: EntityRequest, kind: EntityKind, key: string, mode: 'patch' | 'put', link?: { field: string; id: string }, nameField?: string): Promise<Answer> {
    const body = entityBody(await request.body(), kind);
    // A nested PUT keeps the entity under the parent of its URL.
    if (link !== undefined) body[link.field] = link.id;
    // Kong's upsert fills `auto` fields the body leaves out, as an insert does (a JWT key's secret).
    if (mode === 'put') kind.generate?.(body);
    const existing = findEntity(this.#current(), kind, key);
    if (existing === null && mode === 'patch') throw notFound();
    let prefix = '';
    let created = false;
    const result = await this.#manager.change((doc) => {
      const list = listOf(doc, kind);
      const index = existing === null ? -1 : indexOfId(doc, kind, existing.id);
      if (index < 0 && mode === 'patch') throw notFound(); // deleted by a change queued before this one
      if (index < 0) {
        // PUT to an absent entity creates it, named (or identified) by the URL.
        created = true;
        const field = nameField ?? kind.nameFields[0] ?? 'id';
        const named = UUID.test(key) ? { ...body, id: key.toLowerCase() } : { ...body, [field]: field === 'snis' ? [key] : key };
        const appended = appendEntity(doc, kind, named);
        prefix = `${kind.section}[${appended.index}]`;
        return { value: appended.id };
      }
      const id = String(list[index]?.id);
      checkSameId(body, id);
      const previous = list[index] ?? {};
      const kept = Object.fromEntries((kind.keptOnReplace ?? []).filter((f) => previous[f] !== undefined).map((f) => [f, previous[f]]));
      const next = mode === 'patch' ? patchEntity(previous, body, kind) : { ...body, ...kept, ...urlName(kind, key), id };
      list[index] = kind.section === 'certificates' ? keepSniIdentities(previous, next) : next;
      prefix = `${kind.section}[${index}]`;
      return { value: id };
    });
    if (!result.ok) throw rejection(result.errors, prefix, 'write');
    return { status: created ? 201 : 200, body: this.#present(result.config, kind, result.value, request.query) };
  }

  async #delete(kind: EntityKind, key: string): Promise<Answer> {
    const existing = findEntity(this.#current(), kind, key);
    if (existing === null) return { status: 204 };
    const result = await this.#manager.change((doc) => {
      const index = indexOfId(doc, kind, existing.id);
      if (index >= 0) listOf(doc, kind).splice(index, 1);
      if (kind.pluginScope !== null) cascadePlugins(doc, kind.pluginScope, existing.id);
      for (const dependents of kind.cascade ?? []) cascadeDependents(doc, dependents, existing.id);
      kind.onDelete?.(doc, existing.id);
      return { value: null };
    });
    if (!result.ok) throw rejection(result.errors, '', 'delete', kind);
    return { status: 204 };
  }
}

/** Kong's PUT by name (`upsert_by_name`): the name in the URL is the entity's, whatever the body says. */
function urlName(kind: EntityKind, key: string): Record<string, string> {
  const field = kind.nameFields[0];
  return field === undefined || field === 'snis' || UUID.test(key) ? {} : { [field]: key };
}

export function methodNotAllowed(): AdminError {
  return new AdminError('method not allowed', 'Method not allowed');
}
