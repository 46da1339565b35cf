import { Type, type Static } from '@sinclair/typebox';
import type { ConfigError } from '../../config/types.js';
import type { PluginSchema } from '../../pipeline/plugin.js';
import { isValidHeaderName, splitEntry } from '../request-transformer/entries.js';

const Strings = (description: string) => Type.Array(Type.String(), { default: [], description });
const JsonTypes = Type.Array(Type.Union([Type.Literal('boolean'), Type.Literal('number'), Type.Literal('string')]), {
  default: [],
  description: 'Type of each json entry, by position: boolean, number or string (the default).',
});

const withTypes = (verb: string) =>
  Type.Object(
    {
      json: Strings(`JSON members to ${verb} ("name:value"), in JSON responses.`),
      json_types: JsonTypes,
      headers: Strings(`Response headers to ${verb} ("name:value").`),
    },
    { additionalProperties: false, default: {} },
  );

/** Kong's response-transformer (kong/plugins/response-transformer/schema.lua). */
export const responseTransformerConfig = Type.Object(
  {
    remove: Type.Object(
      { json: Strings('JSON members to remove, in JSON responses.'), headers: Strings('Response headers to remove.') },
      { additionalProperties: false, default: {} },
    ),
    rename: Type.Object(
      { json: Strings('JSON members to rename ("old:new").'), headers: Strings('Response headers to rename ("old:new").') },
      { additionalProperties: false, default: {} },
    ),
    replace: withTypes('replace when present'),
    add: withTypes('add when absent'),
    append: withTypes('append'),
  },
  { additionalProperties: false },
);

export type ResponseTransformerConfig = Static<typeof responseTransformerConfig>;

/** Kong's rules: `name:value` entries match `^[^:]+:.*$`; rename's headers are valid names on both sides. */
function checkEntry(section: 'rename' | 'replace' | 'add' | 'append', field: 'json' | 'headers', entry: string): string | null {
  if (!/^[^:]+:/.test(entry)) return `invalid value: ${entry}`;
  if (section !== 'rename' || field !== 'headers') return null;
  const split = splitEntry(entry)!;
  if (!isValidHeaderName(split.name)) return `'${split.name}' is not a valid header`;
  return isValidHeaderName(split.value) ? null : `'${split.value}' is not a valid header`;
}

export const responseTransformerSchema: PluginSchema = {
  name: 'response-transformer',
  configSchema: responseTransformerConfig,
  scopes: { global: true, service: true, route: true, consumer: true, consumerGroup: true },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index) {
    const c = plugin.config as ResponseTransformerConfig;
    const at = `plugins[${index}].config`;
    const errors: ConfigError[] = [];
    for (const section of ['rename', 'replace', 'add', 'append'] as const) {
      for (const field of ['json', 'headers'] as const) {
        c[section][field].forEach((entry, i) => {
          const message = checkEntry(section, field, entry);
          if (message !== null) errors.push({ path: `${at}.${section}.${field}[${i}]`, message });
        });
      }
    }
    return errors;
  },
};
