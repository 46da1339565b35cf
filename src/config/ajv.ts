/**
 * One ajv set up the way the loader needs it: every error at once, defaults written into the data,
 * `verbose` so error messages can read the failing schema, and the handful of string formats schemas
 * use (ajv-formats is not a dependency). Unknown keywords and formats are tolerated: plugin authors
 * may annotate their schemas freely.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { isIPv4, isIPv6 } from 'node:net';
import { isRecord } from './paths.js';

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

function isAbsoluteUri(s: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(s) && URL.canParse(s);
}

const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  verbose: true,
  strict: false,
  logger: false,
  formats: {
    uri: isAbsoluteUri,
    url: isAbsoluteUri,
    uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    hostname: HOSTNAME,
    ipv4: (s: string) => isIPv4(s),
    ipv6: (s: string) => isIPv6(s),
    email: /^[^\s@]+@[^\s@]+$/,
    'date-time': (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(s) && !Number.isNaN(Date.parse(s)),
    regex: (s: string) => {
      try {
        new RegExp(s, 'u');
        return true;
      } catch {
        return false;
      }
    },
  },
});

const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const SUBSCHEMA_LISTS = ['anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMA_SINGLE = ['additionalProperties', 'items', 'not', 'if', 'then', 'else', 'contains', 'propertyNames'];

/**
 * A copy of a plugin's config schema in which every object that lists `properties` and says nothing
 * about extra ones refuses them. Kong rejects unknown config fields, and a typo such as
 * `proof_of_posession_mtls` must not be silently ignored because a schema author forgot
 * `additionalProperties: false`. Members of `allOf` are left open, since closing them would make the
 * intersection reject its own fields.
 */
export function closeObjectSchemas(schema: unknown, insideAllOf = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => closeObjectSchemas(s));
  if (!isRecord(schema)) return schema;
  const out: Record<string, unknown> = { ...schema };
  for (const key of SUBSCHEMA_MAPS) {
    const map = schema[key];
    if (isRecord(map)) out[key] = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, closeObjectSchemas(v)]));
  }
  for (const key of SUBSCHEMA_LISTS) {
    const list = schema[key];
    if (Array.isArray(list)) out[key] = list.map((s) => closeObjectSchemas(s));
  }
  for (const key of SUBSCHEMA_SINGLE) {
    if (key in schema) out[key] = closeObjectSchemas(schema[key]);
  }
  if (Array.isArray(schema.allOf)) out.allOf = schema.allOf.map((s) => closeObjectSchemas(s, true));
  const open = ['additionalProperties', 'patternProperties', 'unevaluatedProperties'].some((k) => k in schema);
  if (!insideAllOf && isRecord(schema.properties) && !open) out.additionalProperties = false;
  return out;
}

const pluginValidators = new WeakMap<TSchema, ValidateFunction>();

/** The compiled validator of a plugin's config schema, compiled once per schema object. */
export function pluginConfigValidator(schema: TSchema): ValidateFunction {
  let validate = pluginValidators.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(closeObjectSchemas(schema) as TSchema);
    pluginValidators.set(schema, validate);
  }
  return validate;
}

/** Compiles one of the loader's own schemas (closed already, compiled once at module load). */
export function compileSchema(schema: TSchema): ValidateFunction {
  return ajv.compile(schema);
}
