/**
 * `/snis` and `/certificates/{id}/snis`: SNIs are stored inside their certificate (decK nests them
 * too); these endpoints show them as Kong's SNI entities, each with its own id and tags, and add,
 * change or remove them. As in Kong, a UUID-shaped path segment is the SNI's id (decK creates SNIs
 * with `PUT /snis/{client-generated uuid}`), anything else its name.
 */
import { derivedSniId } from '../config/identity.js';
import type { Config } from '../config/types.js';
import type { DeckDocument } from '../config/export.js';
import type { ConfigManager } from '../store/config-manager.js';
import { AdminError } from './admin-error.js';
import { entityBody, listOf, rejection } from './entity-changes.js';
import { findEntity, KINDS, sniEntities } from './entity-kinds.js';
import type { Answer } from './entity-routes.js';
import { methodNotAllowed } from './entity-routes.js';
import { filterByTags, paginate } from './pagination.js';

type Raw = Record<string, unknown>;
type Sni = ReturnType<typeof sniEntities>[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function certificateIdOf(body: Raw): string | null {
  const ref = body.certificate;
  if (typeof ref === 'string') return ref.toLowerCase();
  if (typeof ref === 'object' && ref !== null && typeof (ref as Raw).id === 'string') return ((ref as Raw).id as string).toLowerCase();
  return null;
}

/** The id of a stored SNI item (`name` or `{ name, id? }`). */
function itemId(item: unknown): string | null {
  if (typeof item === 'string') return derivedSniId(item.toLowerCase());
  if (typeof item !== 'object' || item === null) return null;
  const { id, name } = item as Raw;
  if (typeof id === 'string') return id.toLowerCase();
  return typeof name === 'string' ? derivedSniId(name.toLowerCase()) : null;
}

/** Removes the SNI with `id` from whichever certificate of the document holds it. */
function removeFromDocument(doc: DeckDocument, id: string): void {
  for (const cert of listOf(doc, KINDS.certificates)) {
    if (Array.isArray(cert.snis)) cert.snis = (cert.snis as unknown[]).filter((item) => itemId(item) !== id);
  }
}

/** What an SNI is made of: its name, id, tags and certificate. */
interface SniFields {
  readonly id: string | null;
  readonly name: unknown;
  readonly tags: unknown;
  readonly certificate: string | null;
}

export class SniRoutes {
  readonly #manager: ConfigManager;
  readonly #current: () => Config;

  constructor(manager: ConfigManager, current: () => Config) {
    this.#manager = manager;
    this.#current = current;
  }

  /** `certificate` is the id from `/certificates/{id}/snis`, or null for `/snis`. */
  async handle(method: string, key: string | undefined, certificate: string | null, query: URLSearchParams, path: string, body: () => Promise<unknown>): Promise<Answer> {
    let all = sniEntities(this.#current());
    if (certificate !== null) all = all.filter((s) => s.certificate.id === certificate);
    if (key === undefined) {
      if (method === 'GET' || method === 'HEAD') return { status: 200, body: paginate(filterByTags(all, query), query, path) };
      if (method !== 'POST') throw methodNotAllowed();
      const created = entityBody(await body());
      return this.#save(null, this.#fields(created, null, certificate), 201);
    }
    const byId = UUID.test(key);
    const sni = all.find((s) => (byId ? s.id === key.toLowerCase() : s.name === key.toLowerCase()));
    switch (method) {
      case 'GET':
      case 'HEAD':
        if (sni === undefined) throw new AdminError('not found', 'Not found');
        return { status: 200, body: sni };
      case 'PATCH': {
        if (sni === undefined) throw new AdminError('not found', 'Not found');
        const patch = entityBody(await body());
        return this.#save(sni, { id: sni.id, name: patch.name ?? sni.name, tags: patch.tags ?? sni.tags, certificate: certificateIdOf(patch) ?? certificate ?? sni.certificate.id }, 200);
      }
      case 'PUT': {
        // Create or replace: the key is the id (a UUID) or the name; an existing SNI keeps its id.
        const replacement = entityBody(await body());
        const named = byId ? replacement : { ...replacement, name: replacement.name ?? key.toLowerCase() };
        const fields = this.#fields(named, byId ? key.toLowerCase() : (sni?.id ?? null), certificate);
        return this.#save(sni ?? null, fields, sni === undefined ? 201 : 200);
      }
      case 'DELETE': {
        if (sni === undefined) return { status: 204 };
        const result = await this.#manager.change((doc) => {
          removeFromDocument(doc, sni.id);
          return { value: null };
        });
        if (!result.ok) throw rejection(result.errors, '', 'delete');
        return { status: 204 };
      }
      default:
        throw methodNotAllowed();
    }
  }

  #fields(body: Raw, id: string | null, certificate: string | null): SniFields {
    if (body.id !== undefined && (typeof body.id !== 'string' || (id !== null && body.id.toLowerCase() !== id))) {
      throw new AdminError('schema violation', 'schema violation (id: cannot be changed)', { errors: [{ path: 'id', message: 'cannot be changed' }] });
    }
    return { id: id ?? (typeof body.id === 'string' ? body.id.toLowerCase() : null), name: body.name, tags: body.tags, certificate: certificate ?? certificateIdOf(body) };
  }

  /** Stores `fields` in its certificate, first removing `previous` (a rename or a move) if given. */
  async #save(previous: Sni | null, fields: SniFields, status: 200 | 201): Promise<Answer> {
    const name = typeof fields.name === 'string' ? fields.name.toLowerCase() : null;
    const certId = fields.certificate;
    const errors = [
      ...(name === null ? [{ path: 'name', message: 'required field missing' }] : []),
      ...(certId === null ? [{ path: 'certificate', message: 'required field missing' }] : []),
    ];
    if (errors.length > 0) throw new AdminError('schema violation', `schema violation (${errors.map((e) => `${e.path}: ${e.message}`).join('; ')})`, { errors });
    if (findEntity(this.#current(), KINDS.certificates, certId ?? '') === null) {
      throw new AdminError('foreign key violation', `the foreign key '{id="${certId}"}' does not reference an existing 'certificates' entity.`, {
        errors: [{ path: 'certificate', message: `certificate '${certId}' not found` }],
      });
    }
    const id = fields.id ?? previous?.id ?? null;
    let prefix = '';
    const result = await this.#manager.change((doc) => {
      if (previous !== null) removeFromDocument(doc, previous.id);
      const list = listOf(doc, KINDS.certificates);
      const index = list.findIndex((c) => c.id === certId);
      const cert = list[index];
      if (cert === undefined) throw new AdminError('not found', 'Not found');
      const item: Raw = { name, ...(id === null ? {} : { id }), ...(fields.tags === undefined || fields.tags === null ? {} : { tags: fields.tags }) };
      const snis = [...(Array.isArray(cert.snis) ? (cert.snis as unknown[]) : []), item];
      cert.snis = snis;
      prefix = `certificates[${index}].snis[${snis.length - 1}]`;
      return { value: null };
    });
    if (!result.ok) throw rejection(result.errors, prefix, 'write');
    const saved = sniEntities(result.config).find((s) => s.name === name);
    return { status, body: saved };
  }
}
