/**
 * Kong's schema language, generated from the JSON schemas (TypeBox) Portcullis validates with, so
 * the two can never disagree. Kong's admin API answers `GET /schemas/plugins/{name}` and
 * `GET /schemas/{entity}` with `{ "fields": [ { "<name>": { type, default, required, … } } ],
 * "entity_checks": [] }`; decK and go-kong read it to fill defaults (`FillPluginsDefaults` walks
 * `fields[].config.fields`, recursing into records that are `required`, and writes an explicit null
 * for a field without `default`), and Kong Manager builds its forms from it.
 *
 * The mapping, chosen so that the defaults decK fills are exactly the ones Portcullis applies:
 *
 * | JSON schema                                  | Kong                                              |
 * |----------------------------------------------|---------------------------------------------------|
 * | `string` (`enum` → `one_of`, lengths)        | `string` (`len_min`, `len_max`)                   |
 * | `integer`, `number` (`minimum`, `maximum`)    | same type, `between` (an open side as ±2^53)      |
 * | `boolean`                                     | `boolean`                                         |
 * | `array` (`uniqueItems` → `set`)               | `array`/`set` with `elements`                     |
 * | `object` with `properties`                    | `record` with `fields`, `required: true` as Kong's records |
 * | `object` with only `additionalProperties`     | `map` with `keys` and `values`                    |
 * | `anyOf [X, null]`, `type [X, 'null']`         | X, not required (null means unset, as in Kong)    |
 * | `const` / a union of literals                 | the literal's type with `one_of`                  |
 * | anything else (`{}`)                          | `json`                                            |
 *
 * A record that may be null (no default object) is `required: false`, so decK leaves it null rather
 * than inventing an object of defaults Portcullis would not store. Regex `pattern`s are not emitted:
 * Kong's `match` holds Lua patterns, and a regex there would be misread.
 */

type Json = Record<string, unknown>;

/** One entry of a Kong `fields` array: `{ "<name>": { …attributes } }`. */
export type KongFieldEntry = Record<string, Json>;

export interface KongSchema {
  readonly fields: KongFieldEntry[];
  readonly entity_checks: Json[];
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typesOf(schema: Json): string[] {
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.filter((t): t is string => typeof t === 'string');
  return [];
}

/** The members of `anyOf`/`oneOf` that are not `null`, and whether `null` was one of them. */
function unionMembers(schema: Json): { members: Json[]; nullable: boolean } | null {
  const list = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null;
  if (list === null) return null;
  const members = list.filter(isRecord);
  const nonNull = members.filter((m) => !(typesOf(m).length === 1 && typesOf(m)[0] === 'null'));
  return { members: nonNull, nullable: nonNull.length < members.length };
}

function kongTypeOfValue(value: unknown): string {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (Array.isArray(value)) return 'array';
  if (isRecord(value)) return 'record';
  return 'string';
}

/** The Kong type and type-specific attributes of a schema that is not a union. */
function convertSingle(schema: Json, types: string[]): Json {
  const type = types.find((t) => t !== 'null');
  if ('const' in schema) return { type: kongTypeOfValue(schema.const), one_of: [schema.const] };
  if (type === undefined && Array.isArray(schema.enum)) return { type: kongTypeOfValue(schema.enum[0]), one_of: [...(schema.enum as unknown[])] };
  switch (type) {
    case 'string': {
      const out: Json = { type: 'string' };
      if (Array.isArray(schema.enum)) out.one_of = [...(schema.enum as unknown[])];
      if (typeof schema.minLength === 'number' && schema.minLength > 0) out.len_min = schema.minLength;
      if (typeof schema.maxLength === 'number') out.len_max = schema.maxLength;
      if (schema.format === 'uuid' || schema.errorMessage === 'must be a UUID') out.uuid = true;
      return out;
    }
    case 'integer':
    case 'number': {
      const out: Json = { type };
      if (Array.isArray(schema.enum)) out.one_of = [...(schema.enum as unknown[])];
      const min = typeof schema.minimum === 'number' ? schema.minimum : null;
      const max = typeof schema.maximum === 'number' ? schema.maximum : null;
      if (typeof schema.exclusiveMinimum === 'number' && max === null) out.gt = schema.exclusiveMinimum;
      else if (min !== null || max !== null) out.between = [min ?? -Number.MAX_SAFE_INTEGER, max ?? Number.MAX_SAFE_INTEGER];
      return out;
    }
    case 'boolean':
      return { type: 'boolean' };
    case 'array': {
      const items = isRecord(schema.items) ? schema.items : {};
      const out: Json = { type: schema.uniqueItems === true ? 'set' : 'array', elements: kongField(items, { topLevel: false }) };
      if (typeof schema.minItems === 'number' && schema.minItems > 0) out.len_min = schema.minItems;
      if (typeof schema.maxItems === 'number') out.len_max = schema.maxItems;
      return out;
    }
    case 'object': {
      if (isRecord(schema.properties)) return { type: 'record', fields: kongFields(schema) };
      const values = isRecord(schema.additionalProperties) ? schema.additionalProperties : isRecord(schema.patternProperties) ? (Object.values(schema.patternProperties).find(isRecord) ?? {}) : {};
      return { type: 'map', keys: { type: 'string' }, values: kongField(values, { topLevel: false }) };
    }
    default:
      return { type: 'json' };
  }
}

interface FieldOptions {
  /** A member of a record (`required` applies), rather than `elements`/`values`. */
  readonly topLevel: boolean;
  /** Whether the enclosing object lists it in `required`. */
  readonly requiredByParent?: boolean;
}

/** The Kong field definition of one JSON schema. */
export function kongField(schema: Json, options: FieldOptions): Json {
  const union = unionMembers(schema);
  let out: Json;
  let nullable = typesOf(schema).includes('null');
  if (union !== null) {
    nullable ||= union.nullable;
    const literals = union.members.every((m) => 'const' in m);
    const first = union.members[0];
    if (literals && union.members.length > 0) out = { type: kongTypeOfValue(first?.const), one_of: union.members.map((m) => m.const) };
    else if (union.members.length === 1 && first !== undefined) out = kongField(first, { topLevel: false });
    else out = { type: 'json' };
    delete out.required;
    delete out.default;
  } else {
    out = convertSingle(schema, typesOf(schema));
  }
  if (schema.default !== undefined && schema.default !== null) out.default = structuredClone(schema.default);
  if (options.topLevel) {
    // Kong: a record is required unless it may be null; a plain field is required when it has a
    // default (it can never be unset) or the parent requires it.
    const required = out.type === 'record' ? !nullable : !nullable && (options.requiredByParent === true || out.default !== undefined);
    if (required) out.required = true;
  }
  if (typeof schema.description === 'string' && schema.description !== '') out.description = schema.description;
  return out;
}

/** The `fields` of a JSON object schema, in property order. */
export function kongFields(schema: Json, omit: ReadonlySet<string> = new Set()): KongFieldEntry[] {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(properties)
    .filter(([name, sub]) => !omit.has(name) && isRecord(sub))
    .map(([name, sub]) => ({ [name]: kongField(sub as Json, { topLevel: true, requiredByParent: required.has(name) }) }));
}
