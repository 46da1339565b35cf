import { Type } from '@sinclair/typebox';
import type { ConfigError } from '../config/types.js';

/**
 * Kong's `custom_fields_by_lua` (typedefs.lua_code: a map of field name to Lua code). Kept in the
 * schema so a Kong file validates field by field, and refused when set: Portcullis runs no Lua.
 */
export const customFieldsByLua = Type.Union([Type.Record(Type.String({ minLength: 1 }), Type.String()), Type.Null()], {
  default: null,
  description: 'Lua code per log field; not supported (Portcullis runs no Lua): a value is refused.',
});

/** The refusal of a `custom_fields_by_lua` that is set (an empty map means nothing and passes). */
export function refuseLua(value: Readonly<Record<string, string>> | null, at: string): ConfigError[] {
  if (value === null || Object.keys(value).length === 0) return [];
  return [{ path: `${at}.custom_fields_by_lua`, message: 'custom_fields_by_lua is not supported: Portcullis runs no Lua code' }];
}
