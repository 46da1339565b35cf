/**
 * Two allowances made before schema validation, both guided by the schema so they only apply where
 * they cannot change meaning:
 *
 * - YAML 1.1 booleans. decK reads YAML 1.1, where `on`, `off`, `yes`, `no`, `y`, `n` are booleans;
 *   Kong's own tutorial writes `proof_of_possession_auth_methods_validation: on`. We parse YAML 1.2
 *   (so a string field holding `on` or `no` stays a string), and turn these words into booleans in
 *   fields that accept a boolean and not a string.
 * - Nulls. `name:` with nothing after it is null in YAML; decK (through Go structs) treats such a
 *   field as absent. A null in a field that does not accept null is removed, so its default applies
 *   or "required field missing" is reported, instead of "must be a string".
 */
import { isRecord } from './paths.js';

type Schema = Record<string, unknown>;

const YAML11_BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ['y', true], ['yes', true], ['on', true], ['true', true],
  ['n', false], ['no', false], ['off', false], ['false', false],
]);

function branches(schema: Schema): Schema[] {
  const members = [schema.anyOf, schema.oneOf, schema.allOf].flatMap((l): unknown[] => (Array.isArray(l) ? l : []));
  return members.filter(isRecord);
}

/** Whether a value of this JSON type can satisfy the schema, as far as a quick look can tell. */
function accepts(schema: Schema, type: 'boolean' | 'string' | 'null'): boolean {
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    return types.includes(type);
  }
  const jsType = type === 'null' ? 'object' : type;
  if ('const' in schema) return typeof schema.const === jsType && (type !== 'null' || schema.const === null);
  if (Array.isArray(schema.enum)) return schema.enum.some((v) => typeof v === jsType && (type !== 'null' || v === null));
  const members = branches(schema);
  if (members.length > 0) return members.some((m) => accepts(m, type));
  return true; // unconstrained (`{}`, a `$ref` we do not follow): anything goes, so change nothing
}

/** The schema and, recursively, the members of its unions: where to look for properties and items. */
function candidates(schemas: readonly Schema[]): Schema[] {
  return schemas.flatMap((s) => [s, ...candidates(branches(s))]);
}

/** A schema's pattern; one that does not compile matches nothing (ajv reports the schema itself). */
function matchesPattern(pattern: string, key: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(key);
  } catch {
    return false;
  }
}

function propertySchemas(schemas: readonly Schema[], key: string): Schema[] {
  const out: Schema[] = [];
  for (const s of candidates(schemas)) {
    const props = isRecord(s.properties) ? s.properties : {};
    const own = props[key];
    if (isRecord(own)) {
      out.push(own);
      continue;
    }
    let matched = false;
    if (isRecord(s.patternProperties)) {
      for (const [pattern, sub] of Object.entries(s.patternProperties)) {
        if (isRecord(sub) && matchesPattern(pattern, key)) {
          out.push(sub);
          matched = true;
        }
      }
    }
    if (!matched && isRecord(s.additionalProperties)) out.push(s.additionalProperties);
  }
  return out;
}

function itemSchemas(schemas: readonly Schema[], index: number): Schema[] {
  const out: Schema[] = [];
  for (const s of candidates(schemas)) {
    const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : null;
    const positional: unknown = tuple?.[index];
    if (isRecord(positional)) out.push(positional);
    else if (isRecord(s.items)) out.push(s.items);
  }
  return out;
}

function prepare(schemas: readonly Schema[], value: unknown): unknown {
  if (schemas.length === 0) return value;
  if (typeof value === 'string') {
    const asBoolean = YAML11_BOOLEANS.get(value.toLowerCase());
    const booleanField = schemas.some((s) => accepts(s, 'boolean')) && !schemas.some((s) => accepts(s, 'string'));
    return asBoolean !== undefined && booleanField ? asBoolean : value;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      value[i] = prepare(itemSchemas(schemas, i), item);
    });
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      const subs = propertySchemas(schemas, key);
      if (item === null && subs.length > 0 && !subs.some((s) => accepts(s, 'null'))) delete value[key];
      else value[key] = prepare(subs, item);
    }
  }
  return value;
}

/**
 * Applies both allowances to `data` in place (it must be a private copy) and returns it; a bare
 * boolean-ish string at the root comes back converted.
 */
export function applyYamlLeniency(schema: unknown, data: unknown): unknown {
  return isRecord(schema) ? prepare([schema], data) : data;
}
