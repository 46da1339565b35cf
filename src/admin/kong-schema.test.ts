import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pluginConfigValidator } from '../config/ajv.js';
import { loadConfigObject } from '../config/index.js';
import { pluginDefinitions, pluginSchemas } from '../plugins/index.js';
import { KINDS } from './entity-kinds.js';
import { entityKongSchema, pluginKongSchema, SCHEMA_ENTITIES } from './kong-entity-schemas.js';
import { kongField, type KongFieldEntry } from './kong-schema.js';
import { withUnsetFields } from './unset-fields.js';

type Json = Record<string, unknown>;

const CA = '0d769de8-7cc0-4541-989b-f9c23e20054c';

/** The least config each plugin accepts: its required fields. */
const MINIMAL: Readonly<Record<string, Json>> = {
  'openid-connect': { issuer: 'https://idp.example/realms/master' },
  'mtls-auth': { ca_certificates: [CA] },
  'header-cert-auth': { ca_certificates: [CA], certificate_header_name: 'x-client-cert', certificate_header_format: 'url_encoded' },
  'file-log': { path: '/var/log/portcullis/requests.log' },
  'http-log': { http_endpoint: 'https://logs.example/ingest' },
};

function entryValue(entries: readonly KongFieldEntry[], name: string): Json | undefined {
  return entries.find((e) => Object.hasOwn(e, name))?.[name];
}

/**
 * What decK makes of a plugin's config before it compares it with the gateway's: go-kong's
 * `fillConfigRecord` (FillDefaults) as documented there — a field already set stays (records are
 * filled inside), a required record (or one given) is filled recursively, any other field gets its
 * `default`, or an explicit null. Written from that description, not from the gateway's code.
 */
function fillLikeDeck(record: Json, config: Json): Json {
  const out: Json = { ...config };
  for (const entry of record.fields as KongFieldEntry[]) {
    const [name, field] = Object.entries(entry)[0] as [string, Json];
    const given = config[name];
    if (field.type === 'record' && (given !== undefined && given !== null ? true : field.required === true)) {
      out[name] = fillLikeDeck(field, typeof given === 'object' && given !== null ? (given as Json) : {});
      continue;
    }
    if (name in config) continue;
    out[name] = field.default !== undefined ? structuredClone(field.default) : null;
  }
  return out;
}

describe('Kong schema language', () => {
  it('maps JSON schema types, bounds, enums, nullability and defaults', () => {
    assert.deepEqual(kongField({ type: 'integer', minimum: 100, maximum: 599, default: 503 }, { topLevel: true }), {
      type: 'integer',
      between: [100, 599],
      default: 503,
      required: true,
    });
    assert.deepEqual(kongField({ anyOf: [{ type: 'string' }, { type: 'null' }], default: null }, { topLevel: true }), { type: 'string' });
    assert.deepEqual(kongField({ type: 'string', enum: ['off', 'strict'], default: 'off' }, { topLevel: true }), {
      type: 'string',
      one_of: ['off', 'strict'],
      default: 'off',
      required: true,
    });
    assert.deepEqual(kongField({ type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1 }, default: ['a'] }, { topLevel: true }), {
      type: 'set',
      elements: { type: 'string', len_min: 1 },
      default: ['a'],
      required: true,
    });
    assert.deepEqual(kongField({ anyOf: [{ const: 'REQUEST' }] }, { topLevel: true }), { type: 'string', one_of: ['REQUEST'] });
    assert.deepEqual(kongField({ type: 'object', additionalProperties: { type: 'integer' } }, { topLevel: false }), {
      type: 'map',
      keys: { type: 'string' },
      values: { type: 'integer' },
    });
    // A record that may be null is not required: decK then leaves it null instead of inventing one.
    const nullableRecord = kongField({ type: ['object', 'null'], properties: { a: { type: 'boolean', default: true } }, default: null }, { topLevel: true });
    assert.equal(nullableRecord.type, 'record');
    assert.equal(nullableRecord.required, undefined);
  });

  for (const [name, definition] of pluginDefinitions) {
    describe(`plugin ${name}`, () => {
      const schema = pluginKongSchema(definition.schema);

      it('has a required config record listing every field, and the plugin default protocols', () => {
        const config = entryValue(schema.fields, 'config');
        assert.ok(config !== undefined, "no 'config' field (decK: no 'config' field found in schema)");
        assert.equal(config.type, 'record');
        assert.equal(config.required, true);
        const properties = Object.keys((definition.schema.configSchema as unknown as { properties: Json }).properties);
        assert.deepEqual((config.fields as KongFieldEntry[]).map((e) => Object.keys(e)[0]), properties);
        assert.deepEqual(entryValue(schema.fields, 'protocols')?.default, [...definition.schema.defaultProtocols]);
        assert.deepEqual(schema.entity_checks, []);
        for (const scope of ['consumer', 'route', 'service'] as const) {
          assert.equal(entryValue(schema.fields, scope) !== undefined, !definition.schema.scopes[scope], `${scope} refused iff the plugin has no ${scope} scope`);
        }
      });

      it('gives decK exactly the defaults the gateway applies and shows (a second sync changes nothing)', () => {
        const given = structuredClone(MINIMAL[name] ?? {});
        const stored = structuredClone(given);
        assert.ok(pluginConfigValidator(definition.schema.configSchema)(stored), 'the minimal config is valid');
        const shown = withUnsetFields(stored, definition.schema.configSchema);
        const filled = fillLikeDeck(entryValue(schema.fields, 'config') as Json, given);
        assert.deepEqual(filled, shown);
      });
    });
  }

  it('serves every entity decK reads defaults from, with Kong defaults for services and routes', () => {
    for (const entity of SCHEMA_ENTITIES) {
      const schema = entityKongSchema(entity);
      assert.ok(schema !== null, entity);
      assert.deepEqual(entryValue(schema.fields, 'id')?.uuid, true, `${entity}.id`);
    }
    const services = entityKongSchema('services');
    assert.ok(services !== null);
    const defaults = Object.fromEntries(services.fields.map((e) => Object.entries(e)[0] as [string, Json]).map(([n, f]) => [n, f.default]));
    assert.deepEqual(
      { protocol: defaults.protocol, port: defaults.port, retries: defaults.retries, connect_timeout: defaults.connect_timeout, enabled: defaults.enabled },
      { protocol: 'http', port: 80, retries: 5, connect_timeout: 60000, enabled: true },
    );
    assert.equal(entryValue(services.fields, 'url'), undefined, 'url is a decK shorthand, not a field');
    const routes = entityKongSchema('routes');
    assert.ok(routes !== null);
    assert.deepEqual(entryValue(routes.fields, 'service'), { type: 'foreign', reference: 'services', default: null, description: 'The Service this Route is associated to.' });
    assert.equal(entryValue(routes.fields, 'strip_path')?.default, true);
  });

  it("serves upstreams and targets with Kong's defaults, so decK's filled upstream is the one the gateway shows", () => {
    const upstreams = entityKongSchema('upstreams');
    const targets = entityKongSchema('targets');
    assert.ok(upstreams !== null && targets !== null);
    assert.equal(entryValue(upstreams.fields, 'algorithm')?.default, 'round-robin');
    assert.equal(entryValue(upstreams.fields, 'hash_on')?.default, 'none');
    assert.equal(entryValue(upstreams.fields, 'targets'), undefined, 'nested targets are decK nesting, not a field');
    assert.deepEqual(entryValue(upstreams.fields, 'client_certificate')?.reference, 'certificates');
    assert.deepEqual({ ...entryValue(targets.fields, 'upstream'), description: undefined }, { type: 'foreign', reference: 'upstreams', required: true, description: undefined });
    assert.equal(entryValue(targets.fields, 'weight')?.default, 100);

    const loaded = loadConfigObject({ _format_version: '3.0', upstreams: [{ name: 'backend.internal', targets: [{ target: '10.0.0.1:80' }] }] }, { plugins: pluginSchemas });
    assert.ok(loaded.ok);
    const [upstream] = loaded.config.upstreams;
    const [target] = loaded.config.targets;
    assert.ok(upstream !== undefined && target !== undefined);
    const options = { privateKeys: false };
    const auto = { id: undefined, created_at: undefined, updated_at: undefined };
    const filledUpstream = fillLikeDeck({ fields: upstreams.fields }, { name: 'backend.internal' });
    assert.deepEqual({ ...filledUpstream, ...auto }, { ...KINDS.upstreams.present({ ...upstream }, options), ...auto });
    const filledTarget = fillLikeDeck({ fields: targets.fields }, { target: '10.0.0.1:80', upstream: { id: upstream.id } });
    assert.deepEqual({ ...filledTarget, ...auto }, { ...KINDS.targets.present({ ...target }, options), ...auto });
  });
});
