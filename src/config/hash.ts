/**
 * A fingerprint of a configuration for `/status` and change detection: SHA-256 over canonical JSON
 * (keys sorted at every level), so the same config always hashes the same, whatever the key order
 * of the file it came from. Each list is hashed entry by entry and the digests are kept with the
 * frozen entries and lists, so that a configuration one change away from the last is hashed in
 * time proportional to the change, not to its size.
 */
import { createHash } from 'node:crypto';
import { appendedTo } from './list-lineage.js';
import type { Config } from './types.js';

/** JSON with object keys sorted; `undefined` members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Digests kept beside the frozen values they describe (a loaded Config is deep-frozen, so a frozen
 * entity or list never changes): a configuration that differs from the previous one by a few
 * entities hashes only those, not every one of its hundreds of thousands of entities again.
 */
const entityDigests = new WeakMap<object, Buffer>();
const listDigests = new WeakMap<readonly unknown[], Buffer>();
const configDigests = new WeakMap<object, string>();

function sha256(text: string | Buffer): Buffer {
  return createHash('sha256').update(text).digest();
}

function entityDigest(entity: unknown): Buffer {
  if (typeof entity !== 'object' || entity === null || !Object.isFrozen(entity)) return sha256(canonicalJson(entity ?? null));
  let digest = entityDigests.get(entity);
  if (digest === undefined) {
    digest = sha256(canonicalJson(entity));
    entityDigests.set(entity, digest);
  }
  return digest;
}

const EMPTY_LIST = Buffer.alloc(32);

/**
 * A list's digest, chained entry by entry (each step the SHA-256 of the previous step and the
 * entry's digest): a list made by appending to a known one continues that one's chain (see
 * list-lineage.ts), so creating one consumer among 100,000 hashes one entry.
 */
function chainDigest(list: readonly unknown[]): Buffer {
  const frozen = Object.isFrozen(list);
  const known = frozen ? listDigests.get(list) : undefined;
  if (known !== undefined) return known;
  const base = frozen ? appendedTo(list) : null;
  const from = base === null ? null : listDigests.get(base);
  let state = from ?? EMPTY_LIST;
  for (let i = from === undefined || from === null ? 0 : base!.length; i < list.length; i++) state = createHash('sha256').update(state).update(entityDigest(list[i])).digest();
  if (frozen) listDigests.set(list, state);
  return state;
}

/** Hex digest of a list's entries, in order (see chainDigest). */
export function listDigest(list: readonly unknown[]): string {
  return chainDigest(list).toString('hex');
}

/**
 * Hex SHA-256 of `config`: of each top-level member by name (sorted), a list as the digest of its
 * entries' canonical JSON digests, anything else as its canonical JSON. The same Config always
 * hashes the same, whatever the key order of the file it came from, and equal Configs hash equal on
 * every node.
 */
export function configHash(config: Config): string {
  const frozen = Object.isFrozen(config);
  const known = frozen ? configDigests.get(config) : undefined;
  if (known !== undefined) return known;
  const members = Object.entries(config as unknown as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${JSON.stringify(k)}:${Array.isArray(v) ? `[${listDigest(v)}]` : canonicalJson(v)}`);
  const digest = sha256(`{${members.join(',')}}`).toString('hex');
  if (frozen) configDigests.set(config, digest);
  return digest;
}
