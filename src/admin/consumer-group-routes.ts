/**
 * Consumer-group membership and the group's own view, as Kong Enterprise's admin API (go-kong's
 * `ConsumerGroupService` and `ConsumerGroupConsumerService` are the clients this follows):
 *
 *   GET    /consumer_groups/{g}                       200 { consumer_group, consumers, plugins } | 404
 *   GET    /consumer_groups/{g}/consumers             200 { data: [consumer], next }
 *   POST   /consumer_groups/{g}/consumers             201 { consumer_group, consumers: [added] }   body { consumer: <username or id> | [...] }
 *   DELETE /consumer_groups/{g}/consumers             204 (every member leaves)
 *   GET    /consumer_groups/{g}/consumers/{c}         200 consumer | 404 when not a member
 *   DELETE /consumer_groups/{g}/consumers/{c}         204 | 404 when not a member
 *   GET    /consumers/{c}/consumer_groups             200 { data: [group], next }
 *   POST   /consumers/{c}/consumer_groups             201 { consumer, consumer_groups: [added] }    body { group: <name or id> | [...] }
 *   DELETE /consumers/{c}/consumer_groups             204 (the consumer leaves every group)
 *   GET    /consumers/{c}/consumer_groups/{g}         200 { consumer_group } | 404 when not a member
 *   DELETE /consumers/{c}/consumer_groups/{g}         204 | 404 when not a member
 *
 * Everything else under `/consumer_groups` (the collection, PATCH/PUT/DELETE of one, its plugins)
 * is the ordinary entity CRUD. Membership is stored on the group (`consumers: [{ id }]` in the
 * canonical document); every change is one `ConfigManager.change`, live before the answer.
 */
import type { Config, Consumer, ConsumerGroup } from '../config/types.js';
import type { ConfigManager } from '../store/config-manager.js';
import { AdminError } from './admin-error.js';
import type { ConfigAnswer } from './config-routes.js';
import { rejection } from './entity-changes.js';
import { findEntity, KINDS, type PresentOptions } from './entity-kinds.js';
import { methodNotAllowed } from './entity-routes.js';
import { paginate } from './pagination.js';

type Raw = Record<string, unknown>;

function notFound(message = 'Not found'): AdminError {
  return new AdminError('not found', message);
}

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ consumer: "a" }`, `{ consumer: ["a", "b"] }` (JSON or a form with repeated fields). */
function namesIn(body: unknown, field: string): string[] {
  const value = isRecord(body) ? body[field] : undefined;
  const list = Array.isArray(value) ? value : [value];
  if (value === undefined || list.length === 0 || !list.every((v): v is string => typeof v === 'string' && v !== '')) {
    throw new AdminError('schema violation', `schema violation (${field}: required field missing)`, { errors: [{ path: field, message: 'required field missing' }] });
  }
  return list;
}

/** The member ids stored on the group entry of the canonical document. */
function membersOf(entry: Raw): string[] {
  return Array.isArray(entry.consumers) ? entry.consumers.flatMap((m: unknown) => (isRecord(m) && typeof m.id === 'string' ? [m.id] : [])) : [];
}

function groupEntry(doc: Raw, id: string): Raw {
  const list = Array.isArray(doc.consumer_groups) ? (doc.consumer_groups as Raw[]) : [];
  const entry = list.find((g) => g.id === id);
  if (entry === undefined) throw notFound(); // deleted by a change queued before this one
  return entry;
}

export class ConsumerGroupRoutes {
  readonly #manager: ConfigManager;
  readonly #current: () => Config;
  readonly #options: (query: URLSearchParams) => PresentOptions;

  constructor(manager: ConfigManager, current: () => Config, options: (query: URLSearchParams) => PresentOptions) {
    this.#manager = manager;
    this.#current = current;
    this.#options = options;
  }

  /** Answers the membership paths and `GET /consumer_groups/{g}`; null for what the entity CRUD answers. */
  async handle(method: string, segments: readonly string[], query: URLSearchParams, path: string, body: () => Promise<unknown>): Promise<ConfigAnswer | null> {
    const [first, key, child, childKey, ...rest] = segments;
    if (key === undefined || rest.length > 0) return null;
    if (first === 'consumer_groups' && child === undefined) return method === 'GET' || method === 'HEAD' ? this.#showGroup(key, query) : null;
    if (first === 'consumer_groups' && child === 'consumers') return this.#groupMembers(method, key, childKey, query, path, body);
    if (first === 'consumers' && child === 'consumer_groups') return this.#consumerGroups(method, key, childKey, query, path, body);
    return null;
  }

  #group(config: Config, key: string, message?: string): ConsumerGroup {
    const group = findEntity(config, KINDS.consumer_groups, key) as unknown as ConsumerGroup | null;
    if (group === null) throw notFound(message);
    return group;
  }

  #consumer(config: Config, key: string, message?: string): Consumer {
    const consumer = findEntity(config, KINDS.consumers, key) as unknown as Consumer | null;
    if (consumer === null) throw notFound(message);
    return consumer;
  }

  #presentGroup(group: ConsumerGroup, query: URLSearchParams): Raw {
    return KINDS.consumer_groups.present(group as unknown as Raw & { id: string }, this.#options(query));
  }

  #presentConsumer(consumer: Consumer, query: URLSearchParams): Raw {
    return KINDS.consumers.present(consumer as unknown as Raw & { id: string }, this.#options(query));
  }

  #members(config: Config, group: ConsumerGroup): Consumer[] {
    const byId = new Map(config.consumers.map((c) => [c.id, c]));
    return group.consumers.flatMap((id) => byId.get(id) ?? []);
  }

  #showGroup(key: string, query: URLSearchParams): ConfigAnswer {
    const config = this.#current();
    const group = this.#group(config, key);
    const options = this.#options(query);
    const plugins = config.plugins.filter((p) => p.consumer_group === group.id).map((p) => KINDS.plugins.present(p as unknown as Raw & { id: string }, options));
    return { status: 200, body: { consumer_group: this.#presentGroup(group, query), consumers: this.#members(config, group).map((c) => this.#presentConsumer(c, query)), plugins } };
  }

  async #groupMembers(method: string, key: string, member: string | undefined, query: URLSearchParams, path: string, body: () => Promise<unknown>): Promise<ConfigAnswer> {
    const config = this.#current();
    const group = this.#group(config, key);
    if (member !== undefined) {
      const consumer = this.#consumer(config, member);
      if (!group.consumers.includes(consumer.id)) throw notFound();
      if (method === 'GET' || method === 'HEAD') return { status: 200, body: this.#presentConsumer(consumer, query) };
      if (method === 'DELETE') return this.#edit(group.id, (ids) => ids.filter((id) => id !== consumer.id)).then(() => ({ status: 204 }));
      throw methodNotAllowed();
    }
    switch (method) {
      case 'GET':
      case 'HEAD':
        return { status: 200, body: paginate(this.#members(config, group).map((c) => this.#presentConsumer(c, query)), query, path) };
      case 'POST': {
        const consumers = namesIn(await body(), 'consumer').map((name) => this.#consumer(config, name, `Consumer '${name}' not found`));
        const already = consumers.find((c) => group.consumers.includes(c.id));
        if (already !== undefined) throw new AdminError('unique constraint violation', `Consumer '${already.username ?? already.id}' already in group '${group.name}'`);
        const updated = this.#group(await this.#edit(group.id, (ids) => [...ids, ...consumers.map((c) => c.id)]), group.id);
        return { status: 201, body: { consumer_group: this.#presentGroup(updated, query), consumers: consumers.map((c) => this.#presentConsumer(c, query)) } };
      }
      case 'DELETE':
        return this.#edit(group.id, () => []).then(() => ({ status: 204 }));
      default:
        throw methodNotAllowed();
    }
  }

  async #consumerGroups(method: string, key: string, groupKey: string | undefined, query: URLSearchParams, path: string, body: () => Promise<unknown>): Promise<ConfigAnswer> {
    const config = this.#current();
    const consumer = this.#consumer(config, key);
    const groupsOf = config.consumer_groups.filter((g) => g.consumers.includes(consumer.id));
    if (groupKey !== undefined) {
      const group = this.#group(config, groupKey);
      if (!group.consumers.includes(consumer.id)) throw notFound();
      if (method === 'GET' || method === 'HEAD') return { status: 200, body: { consumer_group: this.#presentGroup(group, query) } };
      if (method === 'DELETE') return this.#edit(group.id, (ids) => ids.filter((id) => id !== consumer.id)).then(() => ({ status: 204 }));
      throw methodNotAllowed();
    }
    switch (method) {
      case 'GET':
      case 'HEAD':
        return { status: 200, body: paginate(groupsOf.map((g) => this.#presentGroup(g, query)), query, path) };
      case 'POST': {
        const groups = namesIn(await body(), 'group').map((name) => this.#group(config, name, `Consumer group '${name}' not found`));
        const already = groups.find((g) => g.consumers.includes(consumer.id));
        if (already !== undefined) throw new AdminError('unique constraint violation', `Consumer '${consumer.username ?? consumer.id}' already in group '${already.name}'`);
        const result = await this.#manager.change((doc) => {
          for (const g of groups) {
            const entry = groupEntry(doc, g.id);
            entry.consumers = [...membersOf(entry), consumer.id].map((id) => ({ id }));
          }
          return { value: null };
        });
        if (!result.ok) throw rejection(result.errors, '', 'write');
        const updated = groups.map((g) => this.#group(result.config, g.id));
        return { status: 201, body: { consumer: this.#presentConsumer(consumer, query), consumer_groups: updated.map((g) => this.#presentGroup(g, query)) } };
      }
      case 'DELETE': {
        const result = await this.#manager.change((doc) => {
          for (const g of groupsOf) {
            const entry = groupEntry(doc, g.id);
            entry.consumers = membersOf(entry).filter((id) => id !== consumer.id).map((id) => ({ id }));
          }
          return { value: null };
        });
        if (!result.ok) throw rejection(result.errors, '', 'write');
        return { status: 204 };
      }
      default:
        throw methodNotAllowed();
    }
  }

  /** Rewrites one group's member list in the canonical document; the configuration it made live. */
  async #edit(groupId: string, next: (ids: string[]) => string[]): Promise<Config> {
    const result = await this.#manager.change((doc) => {
      const entry = groupEntry(doc, groupId);
      entry.consumers = next(membersOf(entry)).map((id) => ({ id }));
      return { value: null };
    });
    if (!result.ok) throw rejection(result.errors, '', 'write');
    return result.config;
  }
}
