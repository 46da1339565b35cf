/**
 * Kong's `flattened_errors` (`POST /config?flatten_errors=1`): the errors of a refused declarative
 * configuration grouped by the entity they belong to, which the Kong Ingress Controller reads to
 * report each error on the Kubernetes object that produced the entity (through its tags):
 *
 *   { entity_type: 'route', entity_name, entity_id, entity_tags, entity,
 *     errors: [{ type: 'field', field: 'paths.0', message }, { type: 'entity', message }] }
 *
 * The entity is the innermost one on the error's path (`services[0].routes[1].paths[0]` belongs to
 * the route). Errors outside any entity (`_format_version`) stay in the ordinary `fields` only.
 */
import type { ConfigError } from '../config/types.js';
import { pathSegments } from './admin-error.js';

type Raw = Record<string, unknown>;

const SINGULAR: Readonly<Record<string, string>> = {
  services: 'service',
  routes: 'route',
  plugins: 'plugin',
  consumers: 'consumer',
  consumer_groups: 'consumer_group',
  certificates: 'certificate',
  ca_certificates: 'ca_certificate',
  snis: 'sni',
  upstreams: 'upstream',
  targets: 'target',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface FlattenedError {
  entity_type: string;
  entity_name?: string;
  entity_id?: string;
  entity_tags?: string[];
  entity: unknown;
  errors: Array<{ type: 'field'; field: string; message: string } | { type: 'entity'; message: string }>;
}

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The innermost entity on `segments` in `document`, and the path left inside it. */
function locate(document: unknown, segments: ReadonlyArray<string | number>): { type: string; entity: unknown; rest: Array<string | number> } | null {
  let node: unknown = document;
  let found: { type: string; entity: unknown; rest: Array<string | number> } | null = null;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string | number;
    const next = segments[i + 1];
    const child: unknown = isRecord(node) ? node[String(segment)] : Array.isArray(node) ? node[Number(segment)] : undefined;
    if (typeof segment === 'string' && Object.hasOwn(SINGULAR, segment) && typeof next === 'number' && Array.isArray(child)) {
      const entity: unknown = child[next];
      found = { type: SINGULAR[segment] ?? segment, entity, rest: segments.slice(i + 2) };
      node = entity;
      i++;
      continue;
    }
    node = child;
  }
  return found;
}

/** A copy of an entity fit to send back: a certificate's private keys are not repeated. */
function shown(entity: unknown): unknown {
  if (!isRecord(entity)) return entity;
  const { key: _key, key_alt: _keyAlt, ...rest } = entity;
  return rest;
}

export function flattenErrors(document: unknown, errors: readonly ConfigError[]): FlattenedError[] {
  const byEntity = new Map<unknown, FlattenedError>();
  for (const error of errors) {
    const place = locate(document, pathSegments(error.path));
    if (place === null || place.entity === undefined) continue;
    let entry = byEntity.get(place.entity);
    if (entry === undefined) {
      const raw = isRecord(place.entity) ? place.entity : {};
      const name = typeof place.entity === 'string' ? place.entity : raw.name;
      entry = { entity_type: place.type, entity: shown(place.entity), errors: [] };
      if (typeof name === 'string') entry.entity_name = name;
      if (typeof raw.id === 'string' && UUID.test(raw.id)) entry.entity_id = raw.id;
      if (Array.isArray(raw.tags) && raw.tags.every((t) => typeof t === 'string')) entry.entity_tags = raw.tags;
      byEntity.set(place.entity, entry);
    }
    entry.errors.push(place.rest.length === 0 ? { type: 'entity', message: error.message } : { type: 'field', field: place.rest.join('.'), message: error.message });
  }
  return [...byEntity.values()];
}
