// Property-based tests of the decK loader (src/config: loadConfigObject, loadConfig, formatConfigErrors,
// exportConfig) with the real plugin catalog, on documents as objects: valid documents load and
// round-trip; valid documents with fields deleted, replaced, retyped or added, and arbitrary JSON
// values, give either a config that round-trips or a non-empty list of `{ path, message }` errors.
// Generators are in config-arbitraries.ts; text inputs are in config-text.fuzz.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toDeckYaml } from '../../src/config/export-yaml.js';
import { configHash, formatConfigErrors, loadConfig, loadConfigObject } from '../../src/config/index.js';
import { anyValue, checkObject, checkRoundTrip, checkText, keyName, mutate, mutation, objectOptions, textOptions, validDoc } from './config-arbitraries.js';

describe('fuzz: decK loader, documents', () => {
  it('every generated valid document loads, from an object, JSON and YAML alike, and round-trips', () => {
    fc.assert(
      fc.property(validDoc, (doc) => {
        const result = loadConfigObject(doc, objectOptions);
        if (!result.ok) assert.fail(`a valid document was refused:\n${formatConfigErrors(result.errors)}`);
        checkRoundTrip(result.config);
        const fromJson = loadConfig(JSON.stringify(doc), textOptions);
        assert.ok(fromJson.ok && configHash(fromJson.config) === configHash(result.config), 'JSON text');
        const fromYaml = loadConfig(toDeckYaml(doc), textOptions);
        assert.ok(fromYaml.ok && configHash(fromYaml.config) === configHash(result.config), 'YAML text');
      }),
      { numRuns: 40 },
    );
  });

  it('mutated documents never throw: a config that round-trips, or { path, message } errors', () => {
    fc.assert(
      fc.property(validDoc, fc.array(mutation, { minLength: 1, maxLength: 4 }), (doc, mutations) => {
        const mutated = mutate(doc, mutations);
        const first = checkObject(mutated);
        // Loading does not modify its input and gives the same answer twice.
        const second = loadConfigObject(mutated, objectOptions);
        assert.equal(second.ok, first.ok);
        if (first.ok && second.ok) assert.equal(configHash(second.config), configHash(first.config));
        else assert.deepEqual(second, first);
        // The same through JSON text (where NaN and Infinity become null).
        const json = JSON.stringify(mutated);
        if (json !== undefined) checkText(json);
      }),
      { numRuns: 200 },
    );
  });

  it('deeply nested values, even where a plugin schema allows any JSON, load only if their export loads', () => {
    const deep = fc.tuple(fc.integer({ min: 1, max: 2500 }), fc.boolean()).map(([depth, asList]) => {
      let value: unknown = 'x';
      for (let i = 0; i < depth; i++) value = asList ? [value] : { kty: value };
      return value;
    });
    fc.assert(
      fc.property(deep, fc.constantFrom('client_jwk', 'tags', 'config'), (value, where) => {
        const plugin: Record<string, unknown> = { name: 'openid-connect', config: { issuer: 'https://idp.example/realms/x', auth_methods: ['bearer'] } };
        if (where === 'client_jwk') (plugin.config as Record<string, unknown>).client_jwk = [{ kty: value }];
        else if (where === 'tags') plugin.tags = [value];
        else plugin.config = value;
        checkObject({ _format_version: '3.0', plugins: [plugin] });
      }),
      { numRuns: 100 },
    );
  });

  it('arbitrary JSON values and objects with decK sections never throw', () => {
    const section = fc.constantFrom('_format_version', 'services', 'routes', 'plugins', 'consumers', 'ca_certificates', 'certificates', 'upstreams', '_info', 'x');
    const entity = fc.dictionary(keyName, anyValue, { maxKeys: 5 });
    const docLike = fc.dictionary(section, fc.oneof(anyValue, fc.array(entity, { maxLength: 3 })), { maxKeys: 6 });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), docLike, anyValue), (value) => {
        checkObject(value);
        const json = JSON.stringify(value);
        if (json !== undefined) checkText(json);
      }),
      { numRuns: 500 },
    );
  });
});
