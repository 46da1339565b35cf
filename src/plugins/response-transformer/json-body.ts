/**
 * Kong's body_transformer.transform_json_body: the members of a JSON object response, in Kong's
 * order (remove → rename → replace → add → append), with values typed by `json_types`.
 */
import { splitEntry } from '../request-transformer/entries.js';
import { appendValue } from '../request-transformer/params.js';
import type { ResponseTransformerConfig } from './schema.js';

type JsonType = 'boolean' | 'number' | 'string';

/** A compiled `name:value` entry: the value already as Kong makes it (null: the entry does nothing). */
interface JsonEntry {
  readonly name: string;
  readonly value: unknown;
}

/** Lua's tonumber on a string: decimal (with exponent) or hexadecimal, surrounding spaces allowed; else null. */
function luaNumber(text: string): number | null {
  const t = text.trim();
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (/^[-+]?0[xX][0-9a-fA-F]+$/.test(t)) return t.startsWith('-') ? -Number(t.slice(1)) : Number(t.replace(/^\+/, ''));
  return null;
}

/**
 * Kong's json_value: the value JSON-encoded, its quotes taken off and `\"` unescaped (so a
 * backslash or a control character stays escaped, as on Kong), then cast by its json_type
 * (boolean: "true" is true, anything else false; number: Lua's tonumber, nothing when it is none).
 */
function jsonValue(raw: string, type: JsonType | undefined): unknown {
  const text = JSON.stringify(raw).slice(1, -1).replace(/\\"/g, '"');
  if (type === 'number') return luaNumber(text);
  if (type === 'boolean') return text === 'true';
  return text;
}

function compile(entries: readonly string[], types: readonly JsonType[] = []): JsonEntry[] {
  return entries.map((entry, i) => {
    const split = splitEntry(entry);
    const raw = split === null || split.value === '' ? null : split.value;
    return { name: split?.name ?? entry, value: raw === null ? null : jsonValue(raw, types[i]) };
  });
}

/** The compiled JSON operations of one configuration. */
export interface JsonOperations {
  readonly remove: readonly string[];
  readonly rename: ReadonlyArray<{ readonly name: string; readonly to: string | null }>;
  readonly replace: readonly JsonEntry[];
  readonly add: readonly JsonEntry[];
  readonly append: readonly JsonEntry[];
}

export function compileJsonOperations(config: ResponseTransformerConfig): JsonOperations | null {
  const ops: JsonOperations = {
    remove: config.remove.json.map((entry) => splitEntry(entry)?.name ?? entry),
    // A new name is taken as written (Kong's iter), not JSON-encoded.
    rename: config.rename.json.map((entry) => {
      const split = splitEntry(entry);
      return { name: split?.name ?? entry, to: split === null || split.value === '' ? null : split.value };
    }),
    replace: compile(config.replace.json, config.replace.json_types),
    add: compile(config.add.json, config.add.json_types),
    append: compile(config.append.json, config.append.json_types),
  };
  const count = ops.remove.length + ops.rename.length + ops.replace.length + ops.add.length + ops.append.length;
  return count === 0 ? null : ops;
}

/** Lua truthiness of a member: present and not false (JSON null is truthy to Kong: cjson.null). */
const truthy = (object: Record<string, unknown>, name: string): boolean => Object.hasOwn(object, name) && object[name] !== false;

/** The transformed body, or null when it is no JSON object (Kong then sends it as it was, with a warning). */
export function transformJson(body: Buffer, ops: JsonOperations): Buffer | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const object = parsed as Record<string, unknown>;
  for (const name of ops.remove) delete object[name];
  for (const { name, to } of ops.rename) {
    // Kong renames any member that is there (false and null too): it sets the new name, then clears
    // the old one (so a rename to the same name removes the member, as on Kong).
    if (to === null || !Object.hasOwn(object, name)) continue;
    object[to] = object[name];
    delete object[name];
  }
  for (const { name, value } of ops.replace) if (value !== null && truthy(object, name)) object[name] = value;
  for (const { name, value } of ops.add) if (value !== null && !truthy(object, name)) object[name] = value;
  for (const { name, value } of ops.append) if (value !== null) object[name] = appendValue(object[name], value);
  return Buffer.from(JSON.stringify(object), 'utf8');
}
