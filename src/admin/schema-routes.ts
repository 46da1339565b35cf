/**
 * Kong's schema endpoints, which decK, go-kong and Kong Manager read:
 *
 *   GET  /schemas/plugins/{name}      the plugin's fields in Kong's schema language (decK fills plugin
 *                                      defaults from it on every diff, sync and reset)
 *   GET  /schemas/{entity}            an entity's fields, likewise (decK fills service and route defaults)
 *   POST /schemas/plugins/validate    200 `schema validation successful`, or 400 with the fields
 *   POST /schemas/{entity}/validate   (`deck gateway validate --online` posts every entity of a file)
 *   GET  /json-schemas/plugins/{name} the JSON schema Portcullis validates a plugin's config with
 *
 * As Kong, validation checks the entity itself: its fields, their types and the rules between them,
 * but not whether the entities it references exist or whether its name is taken (the database's
 * constraints, checked when it is written).
 */
import type { ConfigError } from '../config/types.js';
import { checkSni } from '../config/hosts.js';
import type { PluginDefinition } from '../pipeline/plugin.js';
import type { ConfigManager } from '../store/config-manager.js';
import { AdminError, relativeTo, summarise } from './admin-error.js';
import { entityBody, isUniquenessError, listOf } from './entity-changes.js';
import { kindOfSection } from './entity-kinds.js';
import type { Answer } from './entity-routes.js';
import { methodNotAllowed } from './entity-routes.js';
import { entityKongSchema, pluginKongSchema, SCHEMA_ENTITIES } from './kong-entity-schemas.js';

type Raw = Record<string, unknown>;

/** A reference to an entity that is not there: not a schema matter (see the module comment). */
const DANGLING = /( not found| refer to different \w+s)$/;

const VALID = { status: 200, body: { message: 'schema validation successful' } } as const;

export class SchemaRoutes {
  readonly #manager: ConfigManager;
  readonly #plugins: ReadonlyMap<string, PluginDefinition>;

  constructor(manager: ConfigManager, plugins: ReadonlyMap<string, PluginDefinition>) {
    this.#manager = manager;
    this.#plugins = plugins;
  }

  /** Answers `/schemas/…` and `/json-schemas/…`; null when the path is not one of them. */
  async handle(method: string, segments: readonly string[], body: () => Promise<unknown>): Promise<Answer | null> {
    const [root, first, second, ...rest] = segments;
    const read = method === 'GET' || method === 'HEAD';
    if (rest.length > 0 || first === undefined) return null;
    if (root === 'json-schemas') {
      if (first !== 'plugins' || second === undefined) return null;
      if (!read) throw methodNotAllowed();
      return { status: 200, body: this.#jsonSchema(second) };
    }
    if (root !== 'schemas') return null;
    if (second === 'validate') {
      if (method !== 'POST') throw methodNotAllowed();
      return this.#validate(first, entityBody(await body()));
    }
    if (first === 'plugins' && second !== undefined) {
      if (!read) throw methodNotAllowed();
      const plugin = this.#plugins.get(second);
      if (plugin === undefined) throw new AdminError('not found', `No plugin named '${second}'`);
      return { status: 200, body: pluginKongSchema(plugin.schema) };
    }
    if (second !== undefined) return null;
    if (!read) throw methodNotAllowed();
    const schema = entityKongSchema(first);
    if (schema === null) throw new AdminError('not found', `No entity named '${first}'`);
    return { status: 200, body: schema };
  }

  #jsonSchema(name: string): Raw {
    const definition = this.#plugins.get(name);
    if (definition === undefined) throw new AdminError('not found', `No plugin named '${name}'`);
    const { schema } = definition;
    return {
      name: schema.name,
      priority: definition.priority,
      scopes: schema.scopes,
      default_protocols: schema.defaultProtocols,
      // TypeBox schemas are plain JSON schema objects (its symbols do not survive JSON).
      config: schema.configSchema,
    };
  }

  #validate(entity: string, body: Raw): Answer {
    if (!SCHEMA_ENTITIES.includes(entity)) throw new AdminError('not found', `No entity named '${entity}'`);
    const errors = entity === 'snis' ? sniProblems(body) : this.#entityProblems(entity, body);
    if (errors.length === 0) return VALID;
    throw new AdminError('schema violation', summarise('schema violation', errors), { errors });
  }

  /**
   * The problems of `body` as an entity of `section`, found by placing it in the current document
   * (in place of the entity with its id, if there is one, as a PUT would) and keeping only what is
   * wrong with the entity itself.
   */
  #entityProblems(section: string, body: Raw): ConfigError[] {
    const kind = kindOfSection(section);
    if (kind === null) return [];
    const doc = this.#manager.document();
    const list = listOf(doc, kind);
    const id = typeof body.id === 'string' ? body.id.toLowerCase() : null;
    const existing = id === null ? -1 : list.findIndex((e) => e.id === id);
    const index = existing >= 0 ? existing : list.length;
    list[index] = body;
    const prefix = `${section}[${index}]`;
    const inside = (path: string): boolean => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
    const problems = this.#manager.problems(doc).filter((e) => inside(e.path) && !isUniquenessError(e) && !DANGLING.test(e.message));
    return relativeTo(problems, prefix);
  }
}

/** An SNI entity (`{ name, certificate }`) on its own. */
function sniProblems(body: Raw): ConfigError[] {
  const errors: ConfigError[] = [];
  if (typeof body.name !== 'string') errors.push({ path: 'name', message: body.name === undefined ? 'required field missing' : 'expected a string' });
  else {
    const message = checkSni(body.name.toLowerCase(), true);
    if (message !== null) errors.push({ path: 'name', message });
  }
  const certificate = body.certificate;
  const certificateId = typeof certificate === 'object' && certificate !== null ? (certificate as Raw).id : certificate;
  if (typeof certificateId !== 'string') errors.push({ path: 'certificate', message: 'required field missing' });
  return errors;
}
