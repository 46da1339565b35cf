/**
 * Entity changes made on a canonical document (flat sections, every entity with its id), as the
 * database makes them on its tables: an entity replaced keeps its place, a new one comes last, and
 * one deleted and created again comes last too (it gets a new creation order, `seq`).
 */
import type { DeckDocument } from '../config/export.js';
import type { EntityChanges } from './config-store.js';

type Raw = { readonly id?: unknown } & Record<string, unknown>;

/** `document` after each of `changes` in turn (a copy: the input is not modified). */
export function withDocumentChanges(document: DeckDocument, changes: readonly EntityChanges[]): DeckDocument {
  // The final state of each touched entity, in the order its last creation happened.
  const last = new Map<string, { section: string; entity: Raw | null; recreated: boolean }>();
  for (const change of changes) {
    for (const { section, id } of change.deletes) last.set(`${section}:${id}`, { section, entity: null, recreated: true });
    for (const { section, entity } of change.upserts) {
      const key = `${section}:${entity.id}`;
      const before = last.get(key);
      last.delete(key);
      last.set(key, { section, entity, recreated: before?.recreated === true });
    }
  }
  const out: DeckDocument = { ...document };
  const sections = new Set([...last.values()].map((c) => c.section));
  for (const section of sections) {
    const items = Array.isArray(document[section]) ? (document[section] as Raw[]) : [];
    const kept: Raw[] = [];
    const placed = new Set<string>();
    for (const item of items) {
      const change = last.get(`${section}:${String(item.id)}`);
      if (change === undefined) kept.push(item);
      else if (change.entity !== null && !change.recreated) {
        kept.push(change.entity);
        placed.add(String(item.id));
      }
    }
    for (const [key, change] of last) {
      if (change.section !== section || change.entity === null) continue;
      if (!placed.has(key.slice(section.length + 1))) kept.push(change.entity);
    }
    out[section] = kept;
  }
  return out;
}
