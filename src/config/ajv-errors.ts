/**
 * ajv's errors rewritten for people: `services[0].retries: must be an integer` rather than
 * `/services/0/retries must be integer`. Unions (`anyOf`/`oneOf`) are the noisy case: ajv reports
 * every branch's failure. When the value has the shape of one branch (an object where a string or
 * an object is allowed), that branch's errors are what the user needs; when it fits no branch, one
 * line lists what would have fitted ("must be one of off, optional, strict").
 */
import type { ErrorObject } from 'ajv';
import { isRecord, pointerToPath } from './paths.js';
import type { ConfigError } from './types.js';

interface Finding {
  readonly pointer: string;
  readonly message: string;
}

const MISMATCH_KEYWORDS = new Set(['type', 'const', 'enum']);
/** Keywords whose wording a schema may replace with its own `errorMessage`. */
const CUSTOMISABLE = new Set(['pattern', 'format', 'minLength', 'maxLength', 'minProperties', 'maxProperties']);

const TYPE_NOUNS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

function orList(parts: readonly string[]): string {
  const unique = [...new Set(parts)];
  if (unique.length <= 1) return unique[0] ?? '';
  return `${unique.slice(0, -1).join(', ')} or ${unique.at(-1) ?? ''}`;
}

function typeNouns(type: unknown): string[] {
  const names = Array.isArray(type) ? type.map(String) : String(type).split(',');
  return names.map((t) => TYPE_NOUNS[t] ?? t);
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many.replace('N', String(n));
}

function explainOne(e: ErrorObject): Finding | null {
  const p = e.params as Record<string, unknown>;
  const at = (message: string): Finding => ({ pointer: e.instancePath, message });
  const parent: unknown = e.parentSchema;
  const custom = isRecord(parent) ? parent.errorMessage : undefined;
  if (typeof custom === 'string' && CUSTOMISABLE.has(e.keyword)) return at(custom);
  switch (e.keyword) {
    case 'required':
      return { pointer: `${e.instancePath}/${escapePointer(String(p.missingProperty))}`, message: 'required field missing' };
    case 'additionalProperties':
      return { pointer: `${e.instancePath}/${escapePointer(String(p.additionalProperty))}`, message: 'unknown field' };
    case 'unevaluatedProperties':
      return { pointer: `${e.instancePath}/${escapePointer(String(p.unevaluatedProperty))}`, message: 'unknown field' };
    case 'dependentRequired':
    case 'dependencies':
      return {
        pointer: `${e.instancePath}/${escapePointer(String(p.missingProperty))}`,
        message: `required when '${String(p.property)}' is set`,
      };
    case 'propertyNames':
      return { pointer: `${e.instancePath}/${escapePointer(String(p.propertyName))}`, message: 'invalid field name' };
    case 'type':
      return at(`must be ${orList(typeNouns(p.type))}`);
    case 'enum':
      return at(`must be one of ${(Array.isArray(p.allowedValues) ? p.allowedValues : []).map(String).join(', ')}`);
    case 'const':
      return at(`must be ${String(p.allowedValue)}`);
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum': {
      const words = { minimum: 'at least', exclusiveMinimum: 'greater than', maximum: 'at most', exclusiveMaximum: 'less than' };
      return at(`must be ${words[e.keyword]} ${String(p.limit)}`);
    }
    case 'multipleOf':
      return at(`must be a multiple of ${String(p.multipleOf)}`);
    case 'minLength':
      return at(plural(Number(p.limit), 'must not be empty', 'must be at least N characters long'));
    case 'maxLength':
      return at(`must be at most ${String(p.limit)} characters long`);
    case 'minItems':
      return at(plural(Number(p.limit), 'must not be empty', 'must have at least N items'));
    case 'maxItems':
      return at(`must have at most ${String(p.limit)} items`);
    case 'minProperties':
      return at(plural(Number(p.limit), 'must not be empty', 'must have at least N fields'));
    case 'maxProperties':
      return at(`must have at most ${String(p.limit)} fields`);
    case 'uniqueItems':
      return at(`must not contain duplicates (items ${String(p.j)} and ${String(p.i)} are equal)`);
    case 'pattern':
      return at(`must match the pattern ${String(p.pattern)}`);
    case 'format':
      return at(`must be a valid ${String(p.format)}`);
    case 'not':
      return at('is not allowed');
    case 'if':
      return null; // the failing `then`/`else` branch reports its own errors
    case 'oneOf':
      return at('must match exactly one of the allowed forms, but matches several');
    default:
      return at(e.message ?? 'is invalid');
  }
}

function isUnionFailure(e: ErrorObject): boolean {
  if (e.keyword === 'anyOf') return true;
  return e.keyword === 'oneOf' && (e.params as { passingSchemas?: unknown }).passingSchemas == null;
}

/** "must be one of a, b" for unions of constants, else "must be a string or an object". */
function describeUnion(branches: unknown): string {
  const values: string[] = [];
  const kinds: string[] = [];
  for (const b of Array.isArray(branches) ? branches : []) {
    if (!isRecord(b)) continue;
    if ('const' in b) values.push(String(b.const));
    else if (Array.isArray(b.enum)) values.push(...b.enum.map(String));
    else if (b.type !== undefined) kinds.push(...typeNouns(b.type));
    else if (Array.isArray(b.anyOf) || Array.isArray(b.oneOf)) {
      kinds.push(describeUnion(b.anyOf ?? b.oneOf).replace(/^must be (one of )?/, ''));
    }
  }
  if (kinds.length === 0) return `must be one of ${[...new Set(values)].join(', ')}`;
  return `must be ${orList([...values.map((v) => JSON.stringify(v)), ...kinds])}`;
}

function explainUnion(union: ErrorObject, all: readonly ErrorObject[]): Finding[] {
  const prefix = `${union.schemaPath}/`;
  const byBranch = new Map<number, ErrorObject[]>();
  for (const e of all) {
    if (e === union || !e.schemaPath.startsWith(prefix)) continue;
    const branch = Number(e.schemaPath.slice(prefix.length).split('/')[0]);
    byBranch.set(branch, [...(byBranch.get(branch) ?? []), e]);
  }
  const closeBranches = [...byBranch.values()].filter(
    (errors) => !errors.some((e) => e.instancePath === union.instancePath && MISMATCH_KEYWORDS.has(e.keyword)),
  );
  if (closeBranches.length === 0) return [{ pointer: union.instancePath, message: describeUnion(union.schema) }];
  const explained = closeBranches.map((errors) => explainAll(errors));
  return explained.reduce((best, next) => (next.length < best.length ? next : best));
}

function explainAll(errors: readonly ErrorObject[]): Finding[] {
  const unions = errors.filter(isUnionFailure);
  const outer = unions.filter((u) => !unions.some((v) => v !== u && u.schemaPath.startsWith(`${v.schemaPath}/`)));
  const findings: Finding[] = [];
  for (const e of errors) {
    if (outer.includes(e)) findings.push(...explainUnion(e, errors));
    else if (outer.some((u) => e.schemaPath.startsWith(`${u.schemaPath}/`))) continue;
    else if ((e as { propertyName?: string }).propertyName !== undefined) continue; // restated by `propertyNames`
    else {
      const finding = explainOne(e);
      if (finding !== null) findings.push(finding);
    }
  }
  return findings;
}

/** ajv errors → `ConfigError`s with readable paths under `base` (e.g. `plugins[1].config`). */
export function convertAjvErrors(errors: readonly ErrorObject[], base: string, data: unknown): ConfigError[] {
  return explainAll(errors).map((f) => ({ path: pointerToPath(base, f.pointer, data), message: f.message }));
}
