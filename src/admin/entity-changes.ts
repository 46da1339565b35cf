/**
 * Edits of the canonical document for the entity endpoints, and the translation of a refused
 * change into Kong's errors: a duplicate name is 409, a dangling reference left by a delete is a
 * foreign key violation, anything else a schema violation with the entity's own field paths.
 */
import { randomUUID } from 'node:crypto';
import type { DeckDocument } from '../config/export.js';
import type { ConfigError } from '../config/types.js';
import { AdminError, relativeTo, summarise } from './admin-error.js';
import type { EntityKind } from './entity-kinds.js';

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body of an entity request, which must be an object (of fields of `kind`, when given). */
export function entityBody(body: unknown, kind?: EntityKind): Raw {
  if (!isRecord(body)) throw new AdminError('invalid body', 'request body must be an object of entity fields');
  // Kong's timestamps are not kept here; decK sends `created_at` back with every update.
  const { created_at: _created, updated_at: _updated, ...fields } = body;
  const unknown = (kind?.fileOnly ?? []).filter((f) => fields[f] !== undefined);
  if (unknown.length > 0) {
    const errors = unknown.map((path) => ({ path, message: 'unknown field' }));
    throw new AdminError('schema violation', summarise('schema violation', errors), { errors });
  }
  return fields;
}

export function listOf(doc: DeckDocument, kind: EntityKind): Raw[] {
  const list = doc[kind.section];
  if (Array.isArray(list)) return list as Raw[];
  const fresh: Raw[] = [];
  doc[kind.section] = fresh;
  return fresh;
}

/** Position of the entity with `id` in the document's section, or -1. */
export function indexOfId(doc: DeckDocument, kind: EntityKind, id: string): number {
  return listOf(doc, kind).findIndex((e) => e.id === id);
}

/** Appends a new entity (a fresh id unless the body brings one); returns its id and position. */
export function appendEntity(doc: DeckDocument, kind: EntityKind, body: Raw): { id: string; index: number } {
  const id = typeof body.id === 'string' ? body.id.toLowerCase() : randomUUID();
  const list = listOf(doc, kind);
  list.push({ ...body, id });
  return { id, index: list.length - 1 };
}

/** Records merge key by key (a plugin's `config`), everything else is replaced. */
function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isRecord(base) || !isRecord(patch)) return patch;
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = deepMerge(base[k], v);
  return out;
}

/** Kong's PATCH: the given fields change, the others stay. A service `url` replaces its parts. */
export function patchEntity(existing: Raw, body: Raw, kind: EntityKind): Raw {
  const base = { ...existing };
  if (kind.section === 'services' && body.url !== undefined) for (const part of ['protocol', 'host', 'port', 'path']) delete base[part];
  const merged = deepMerge(base, body) as Raw;
  return kind.section === 'upstreams' ? withBalancingShorthand(merged, body) : merged;
}

/**
 * Kong applies its `algorithm`/`hash_on` shorthand (`checks/upstream.ts`) to the request body, not
 * to the merged upstream: `least-connections` or `latency` clears `hash_on`, then a written
 * `hash_on` sets the algorithm (`none`: round-robin, else consistent-hashing). The document stores
 * `hash_on` only when it hashes (a written `none` would force round-robin on load), so the outcome
 * is written that way. A written algorithm other than consistent-hashing drops a stored `hash_on`,
 * which would otherwise turn it back into consistent-hashing when the document is loaded.
 */
function withBalancingShorthand(merged: Raw, body: Raw): Raw {
  if (body.algorithm === undefined && body.hash_on === undefined) return merged;
  const out = { ...merged };
  const hashOn = body.algorithm === 'least-connections' || body.algorithm === 'latency' ? null : body.hash_on;
  if (hashOn === undefined) {
    if (body.algorithm !== 'consistent-hashing') delete out.hash_on;
  } else if (hashOn === null || hashOn === 'none') {
    delete out.hash_on;
    if (hashOn === 'none') out.algorithm = 'round-robin';
  } else if (typeof hashOn === 'string') {
    out.algorithm = 'consistent-hashing';
  }
  return out;
}

/** Checks that a body does not try to change the id in the URL. */
export function checkSameId(body: Raw, id: string): void {
  if (body.id !== undefined && (typeof body.id !== 'string' || body.id.toLowerCase() !== id)) {
    throw new AdminError('schema violation', 'schema violation (id: cannot be changed)', { errors: [{ path: 'id', message: 'cannot be changed' }] });
  }
}

/** Removes the plugins scoped to a deleted service, route, consumer or consumer group, as Kong cascades them. */
export function cascadePlugins(doc: DeckDocument, field: 'service' | 'route' | 'consumer' | 'consumer_group', id: string): void {
  cascadeDependents(doc, { section: 'plugins', field }, id);
}

/** Removes the entities of `section` whose `field` is `id` (an upstream's targets, its plugins). */
export function cascadeDependents(doc: DeckDocument, dependents: { readonly section: string; readonly field: string }, id: string): void {
  const list = doc[dependents.section];
  if (Array.isArray(list)) doc[dependents.section] = (list as Raw[]).filter((e) => e[dependents.field] !== id);
}

// `duplicate name 'x' (also used by services[0])`; a target's: `duplicate target 'h:80' in the same upstream (…)`.
const DUPLICATE = /^duplicate (\w+) '(.*)'(?: in the same \w+)? \(also used by ([^)]+)\)$/;
const SAME_SCOPE = /^plugin '.*' is already configured on the same/;
/** A repeated API key: the message never carries the key (config errors reach logs). */
const SECRET_DUPLICATE = /^duplicate key: /;

/** Whether an error is about uniqueness (Kong's database constraint, not its schema). */
export function isUniquenessError(e: ConfigError): boolean {
  return DUPLICATE.test(e.message) || SAME_SCOPE.test(e.message) || SECRET_DUPLICATE.test(e.message);
}

/** The admin error for a refused change of the entity at `prefix` (`services[3]`). */
export function rejection(errors: readonly ConfigError[], prefix: string, operation: 'write' | 'delete', deleted?: EntityKind): AdminError {
  const mine = (path: string): boolean => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
  // Kong checks the entity's schema before its unique constraints: a duplicate that is also
  // malformed is a schema violation (400), and only a well-formed duplicate is a 409.
  const malformed = operation === 'write' ? errors.filter((e) => !isUniquenessError(e)) : [];
  if (malformed.length > 0) {
    const relative = relativeTo(malformed, prefix);
    return new AdminError('schema violation', summarise('schema violation', relative), { errors: relative });
  }
  for (const e of errors) {
    const dup = DUPLICATE.exec(e.message);
    if (dup !== null && (mine(e.path) || dup[3] === prefix)) {
      return new AdminError('unique constraint violation', `UNIQUE violation detected on '{${dup[1]}="${dup[2]}"}'`, { errors: relativeTo([e], prefix) });
    }
    if (SAME_SCOPE.test(e.message) && mine(e.path)) return new AdminError('unique constraint violation', e.message, { errors: relativeTo([e], prefix) });
    if (SECRET_DUPLICATE.test(e.message) && mine(e.path)) return new AdminError('unique constraint violation', "UNIQUE violation detected on '{key}'", { errors: relativeTo([e], prefix) });
  }
  if (operation === 'delete') {
    // Kong's wording: which kind of entity still points at the one being deleted.
    const referrers = [...new Set(errors.map((e) => /^([a-z_]+)\[/.exec(e.path)?.[1]).filter((s): s is string => s !== undefined))];
    const what = deleted === undefined ? 'entity' : `'${deleted.section}' entity`;
    const message = referrers.length > 0 ? `an existing '${referrers.join("', '")}' entity references this ${what}` : summarise('the deletion leaves the configuration invalid', errors);
    return new AdminError('foreign key violation', message, { errors });
  }
  const relative = relativeTo(errors, prefix);
  return new AdminError('schema violation', summarise('schema violation', relative), { errors: relative });
}

/**
 * A certificate written with its SNIs as names (decK's `PUT /certificates/{id}` resends the current
 * names) keeps the ids and tags its SNIs already have, so the SNI entities survive the update.
 */
export function keepSniIdentities(previous: Raw, next: Raw): Raw {
  if (!Array.isArray(next.snis) || !Array.isArray(previous.snis)) return next;
  const known = new Map<string, unknown>();
  for (const item of previous.snis as unknown[]) {
    const name = typeof item === 'string' ? item : isRecord(item) && typeof item.name === 'string' ? item.name : null;
    if (name !== null) known.set(name.toLowerCase(), item);
  }
  const snis = (next.snis as unknown[]).map((item) => (typeof item === 'string' ? (known.get(item.toLowerCase()) ?? item) : item));
  return { ...next, snis };
}
