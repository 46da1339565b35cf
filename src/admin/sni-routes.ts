/**
 * `/snis` and `/certificates/{id}/snis`: SNIs are stored as names inside their certificate (decK
 * nests them too); these endpoints show them as Kong's SNI entities and add or remove names.
 */
import type { Config } from '../config/types.js';
import type { ConfigManager } from '../store/config-manager.js';
import { AdminError } from './admin-error.js';
import { entityBody, listOf, rejection } from './entity-changes.js';
import { findEntity, KINDS, sniEntities } from './entity-kinds.js';
import type { Answer } from './entity-routes.js';
import { methodNotAllowed } from './entity-routes.js';
import { paginate } from './pagination.js';

type Raw = Record<string, unknown>;

function certificateIdOf(body: Raw): string | null {
  const ref = body.certificate;
  if (typeof ref === 'string') return ref.toLowerCase();
  if (typeof ref === 'object' && ref !== null && typeof (ref as Raw).id === 'string') return ((ref as Raw).id as string).toLowerCase();
  return null;
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
    const config = this.#current();
    let all = sniEntities(config);
    if (certificate !== null) all = all.filter((s) => s.certificate.id === certificate);
    if (key === undefined) {
      if (method === 'GET' || method === 'HEAD') return { status: 200, body: paginate(all, query, path) };
      if (method !== 'POST') throw methodNotAllowed();
      return this.#save(null, entityBody(await body()), certificate, 201);
    }
    const sni = all.find((s) => s.id === key.toLowerCase() || s.name === key.toLowerCase());
    if (method === 'GET' || method === 'HEAD') {
      if (sni === undefined) throw new AdminError('not found', 'Not found');
      return { status: 200, body: sni };
    }
    if (method === 'PATCH') {
      if (sni === undefined) throw new AdminError('not found', 'Not found');
      const patch = entityBody(await body());
      return this.#save(sni.name, { name: patch.name ?? sni.name, certificate: patch.certificate ?? sni.certificate }, certificate, 200);
    }
    if (method === 'PUT') {
      // Create or replace, as Kong: the key names the SNI unless the body says otherwise.
      const replacement = entityBody(await body());
      return this.#save(sni?.name ?? null, { name: key.toLowerCase(), ...replacement }, certificate, sni === undefined ? 201 : 200);
    }
    if (method !== 'DELETE') throw methodNotAllowed();
    if (sni === undefined) return { status: 204 };
    const result = await this.#manager.change((doc) => {
      for (const cert of listOf(doc, KINDS.certificates)) {
        if (Array.isArray(cert.snis)) cert.snis = (cert.snis as unknown[]).filter((n) => n !== sni.name);
      }
      return { value: null };
    });
    if (!result.ok) throw rejection(result.errors, '', 'delete');
    return { status: 204 };
  }

  /** Adds `body.name` to its certificate, first removing `previous` (a rename or a move) if given. */
  async #save(previous: string | null, body: Raw, certificate: string | null, status: 200 | 201): Promise<Answer> {
    const name = typeof body.name === 'string' ? body.name.toLowerCase() : null;
    const certId = certificate ?? certificateIdOf(body);
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
    let prefix = '';
    const result = await this.#manager.change((doc) => {
      const list = listOf(doc, KINDS.certificates);
      const index = list.findIndex((c) => c.id === certId);
      const cert = list[index];
      if (cert === undefined) throw new AdminError('not found', 'Not found');
      if (previous !== null) {
        for (const other of list) {
          if (Array.isArray(other.snis)) other.snis = (other.snis as unknown[]).filter((n) => n !== previous);
        }
      }
      cert.snis = [...(Array.isArray(cert.snis) ? (cert.snis as unknown[]) : []), name];
      prefix = `certificates[${index}]`;
      return { value: null };
    });
    if (!result.ok) throw rejection(result.errors, prefix, 'write');
    const saved = sniEntities(result.config).find((s) => s.name === name);
    return { status, body: saved };
  }
}
