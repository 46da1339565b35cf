import { Type, type Static } from '@sinclair/typebox';
import type { PluginSchema } from '../../pipeline/plugin.js';
import { customFieldsByLua, refuseLua } from '../log-plugins-shared.js';

/** Kong's file-log (kong/plugins/file-log/schema.lua). */
export const fileLogConfig = Type.Object(
  {
    path: Type.String({
      // Kong's Lua pattern ^[^%s*&%%\`][^*&%%\`]*[^%s*&%%\`]$: no *, &, % or backquote, no blank at either end.
      pattern: '^[^\\s*&%`][^*&%`]*[^\\s*&%`]$',
      errorMessage: 'not a valid filename',
      description: 'The file the records are appended to (created if missing).',
    }),
    reopen: Type.Boolean({ default: false, description: 'Close and reopen the file for every write (a batch of the records ready at once), so a rotated file is followed.' }),
    custom_fields_by_lua: customFieldsByLua,
  },
  { additionalProperties: false },
);

export type FileLogConfig = Static<typeof fileLogConfig>;

export const fileLogSchema: PluginSchema = {
  name: 'file-log',
  configSchema: fileLogConfig,
  scopes: { global: true, service: true, route: true, consumer: true },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index) {
    return refuseLua((plugin.config as FileLogConfig).custom_fields_by_lua, `plugins[${index}].config`);
  },
};
