/**
 * Kong shows every field of a plugin's config, unset ones as `null`, and tools depend on it: decK
 * fills the config of the file's plugin from `GET /schemas/plugins/{name}` (every field, `null`
 * where there is no default) and compares it with the gateway's plugin as a whole, so a field the
 * gateway leaves out would show up as a difference on every sync. Portcullis stores a plugin's
 * config without its unset optional fields; this adds them back, as null, for the answer only.
 */
type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object schema (with `properties`) a value of this schema would be, if any. */
function objectSchemaOf(schema: unknown): Json | null {
  if (!isRecord(schema)) return null;
  if (isRecord(schema.properties)) return schema;
  const members = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : [];
  const objects = members.filter((m): m is Json => isRecord(m) && isRecord(m.properties));
  return objects.length === 1 ? (objects[0] ?? null) : null;
}

/** A copy of `value` with every property its schema names present, `null` where unset. */
export function withUnsetFields(value: Readonly<Record<string, unknown>>, schema: unknown): Record<string, unknown> {
  const objectSchema = objectSchemaOf(schema);
  if (objectSchema === null) return { ...value };
  const properties = objectSchema.properties as Json;
  const out: Record<string, unknown> = {};
  for (const [name, sub] of Object.entries(properties)) {
    const given = value[name];
    out[name] = given === undefined ? null : isRecord(given) && objectSchemaOf(sub) !== null ? withUnsetFields(given, sub) : given;
  }
  // Members the schema does not list (allowed by patternProperties) stay as they are.
  for (const [name, given] of Object.entries(value)) if (!(name in out)) out[name] = given;
  return out;
}
