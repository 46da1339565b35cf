import { Type, type Static } from '@sinclair/typebox';
import type { ConfigError } from '../../config/types.js';
import type { PluginSchema } from '../../pipeline/plugin.js';
import { isValidHeaderName, splitEntry } from './entries.js';
import { compileTemplate } from './template.js';

const Strings = (description: string) => Type.Array(Type.String(), { default: [], description });

const section = (verb: string, format: string, withUri = false) =>
  Type.Object(
    {
      body: Strings(`Body parameters to ${verb} (${format}): form-encoded and JSON bodies.`),
      headers: Strings(`Headers to ${verb} (${format}).`),
      querystring: Strings(`Query string parameters to ${verb} (${format}).`),
      ...(withUri ? { uri: Type.Union([Type.String(), Type.Null()], { default: null, description: 'Path sent upstream instead of the routed one (a template).' }) } : {}),
    },
    { additionalProperties: false, default: {} },
  );

/** Kong's request-transformer (kong/plugins/request-transformer/schema.lua). */
export const requestTransformerConfig = Type.Object(
  {
    http_method: Type.Union([Type.String(), Type.Null()], { default: null, description: 'Method sent upstream (upper-case letters only); null: the client’s.' }),
    remove: section('remove', 'names'),
    rename: section('rename', '"old:new"'),
    replace: section('replace when present', '"name:value"', true),
    add: section('add when absent', '"name:value"'),
    append: section('append', '"name:value"'),
  },
  { additionalProperties: false },
);

export type RequestTransformerConfig = Static<typeof requestTransformerConfig>;
type Section = 'remove' | 'rename' | 'replace' | 'add' | 'append';
type Field = 'body' | 'headers' | 'querystring';

/** Kong's check_for_value (every body and querystring entry but remove's): a name, a value, and a template we can render. */
function checkValue(entry: string): string | null {
  const split = splitEntry(entry);
  if (split === null || split.value === '') return `key '${split?.name ?? entry}' has no value`;
  return templateError(split.value);
}

function templateError(value: string): string | null {
  const compiled = compileTemplate(value);
  return 'error' in compiled ? compiled.error : null;
}

/**
 * Kong's rules for one entry, with its messages: header entries have valid names (and rename's
 * new name too), `name:value` header entries match `^[^:]+:.*$`, body and querystring entries of
 * every section but remove have a value; values are templates Portcullis can render.
 */
function checkEntry(sectionName: Section, field: Field, entry: string): string | null {
  if (field === 'headers') {
    if (sectionName !== 'remove' && !/^[^:]+:/.test(entry)) return `invalid value: ${entry}`;
    const split = splitEntry(entry);
    if (split === null || !isValidHeaderName(split.name)) return `'${split?.name ?? entry}' is not a valid header`;
    if (sectionName === 'rename') return isValidHeaderName(split.value) ? null : `'${split.value}' is not a valid header`;
    return sectionName === 'remove' || split.value === '' ? null : templateError(split.value);
  }
  return sectionName === 'remove' ? null : checkValue(entry);
}

export const requestTransformerSchema: PluginSchema = {
  name: 'request-transformer',
  configSchema: requestTransformerConfig,
  scopes: { global: true, service: true, route: true, consumer: true, consumerGroup: true },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index) {
    const c = plugin.config as RequestTransformerConfig;
    const at = `plugins[${index}].config`;
    const errors: ConfigError[] = [];
    if (c.http_method != null && !/^[A-Z]+$/.test(c.http_method)) errors.push({ path: `${at}.http_method`, message: `invalid value: ${c.http_method}` });
    for (const sectionName of ['remove', 'rename', 'replace', 'add', 'append'] as const) {
      for (const field of ['body', 'headers', 'querystring'] as const) {
        c[sectionName][field].forEach((entry, i) => {
          const message = checkEntry(sectionName, field, entry);
          if (message !== null) errors.push({ path: `${at}.${sectionName}.${field}[${i}]`, message });
        });
      }
    }
    const uri = c.replace.uri;
    if (uri != null) {
      const message = templateError(uri) ?? (uri.startsWith('/') ? null : `invalid value: ${uri} (a path must start with /)`);
      if (message !== null) errors.push({ path: `${at}.replace.uri`, message });
    }
    return errors;
  },
};
