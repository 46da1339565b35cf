// Generators and checks shared by config.fuzz.test.ts and config-text.fuzz.test.ts: valid decK
// documents (services, nested routes and plugins incl. openid-connect, mtls-auth and
// tls-handshake-modifier, a CA, consumers), mutations of them, YAML-ish text, and the two checks
// every load must pass (a config or structured errors; a config round-trips through its export).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { exportConfig } from '../../src/config/export.js';
import { toDeckYaml } from '../../src/config/export-yaml.js';
import { configHash, formatConfigErrors, loadConfig, loadConfigObject, type Config, type LoadResult } from '../../src/config/index.js';
import { parseConfigText } from '../../src/config/parse.js';
import { CA_CERT, EC_CERT, EC_KEY, RSA_CERT, RSA_KEY } from '../../src/config/test-fixtures.js';
import { pluginSchemas } from '../../src/plugins/index.js';

const NOW = new Date('2030-01-01T00:00:00Z');
export const objectOptions = { plugins: pluginSchemas, now: NOW };
export const textOptions = { ...objectOptions, env: { DECK_ISSUER: 'https://idp.example/realms/x', DECK_PORT: '8443' } };
export const CA_ID = '2b5f3ad6-2a5e-4a34-8a69-5b1e7b1f8f00';
const CERT_ID = '7c0a3d3e-5b1f-4c2a-9d4e-0f1e2d3c4b5a';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Doc = Record<string, unknown>;

/** The result is a config, or a non-empty list of errors that each have a string path and a message. */
export function checkResult(result: LoadResult): void {
  if (result.ok) {
    assert.equal(typeof result.config, 'object');
    return;
  }
  assert.ok(Array.isArray(result.errors) && result.errors.length > 0, 'a refusal lists its errors');
  for (const error of result.errors) {
    assert.equal(typeof error.path, 'string', `path of ${JSON.stringify(error)}`);
    assert.equal(typeof error.message, 'string', `message of ${JSON.stringify(error)}`);
    assert.ok(error.message.length > 0, `empty message at ${error.path}`);
    // yaml turns a stack overflow into a parse error, but running into the stack limit at all is the
    // bug: near it V8 can abort the process (RegExpCompiler "out of memory") instead of throwing.
    assert.ok(!error.message.includes('call stack'), `ran into the stack limit: ${error.path}: ${error.message}`);
  }
  const formatted = formatConfigErrors(result.errors);
  for (const error of result.errors) assert.ok(formatted.includes(error.message));
}

/** Export → load gives the same hash, with references by name and by id, and through decK YAML text. */
export function checkRoundTrip(config: Config): void {
  const hash = configHash(config);
  for (const references of ['name', 'id'] as const) {
    const again = loadConfigObject(exportConfig(config, { references }), objectOptions);
    if (!again.ok) assert.fail(`the export (references by ${references}) does not load:\n${formatConfigErrors(again.errors)}`);
    assert.equal(configHash(again.config), hash, `references by ${references}`);
  }
  // Through YAML text as `GET /config` → `POST /config` carries it: parsed, not templated. (`portcullis
  // dump` → `sync` renders `${{ … }}`, so a string holding a literal `${{` does not survive that path;
  // decK behaves the same. See the report of this suite.)
  const text = toDeckYaml(exportConfig(config));
  const parsed = parseConfigText(text);
  if (!parsed.ok) assert.fail(`the YAML export does not parse:\n${formatConfigErrors(parsed.errors)}\n${text}`);
  const again = loadConfigObject(parsed.value, objectOptions);
  if (!again.ok) assert.fail(`the YAML export does not load:\n${formatConfigErrors(again.errors)}\n${text}`);
  assert.equal(configHash(again.config), hash, 'through YAML text');
}

export function checkObject(doc: unknown): LoadResult {
  const result = loadConfigObject(doc, objectOptions);
  checkResult(result);
  if (result.ok) checkRoundTrip(result.config);
  return result;
}

export function checkText(text: string): LoadResult {
  const result = loadConfig(text, textOptions);
  checkResult(result);
  if (result.ok) checkRoundTrip(result.config);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Valid documents: services with nested routes and plugins, top-level plugins, a CA, consumers.

const paths = fc.subarray(['/a', '/anything', '/items', '/b/c', '~/items/\\d+$', '~/(?<id>[a-z]+)/x'], { minLength: 1 });
const route = fc.record(
  {
    paths,
    methods: fc.subarray(['GET', 'POST', 'PUT', 'DELETE']),
    hosts: fc.subarray(['example.com', '*.example.com', 'api.*', 'a.example.com:8443', '10.0.0.1']),
    headers: fc.option(fc.constantFrom({ 'x-version': ['1', '~*^v2'] }, { 'X-Tenant': ['a', 'b'] }), { nil: undefined }),
    protocols: fc.constantFrom(['http', 'https'], ['https'], ['http']),
    strip_path: fc.boolean(),
    preserve_host: fc.boolean(),
    regex_priority: fc.integer({ min: -5, max: 5 }),
    path_handling: fc.constantFrom('v0', 'v1'),
    https_redirect_status_code: fc.constantFrom(426, 301, 302, 307, 308),
    tags: fc.subarray(['a', 'b', 'team-x']),
  },
  { requiredKeys: ['paths'] },
);

/** An openid-connect config, and whether it needs a client certificate plugin beside it. */
const oidcConfig = fc
  .record({
    auth_methods: fc.constantFrom<string[]>(['bearer'], ['bearer', 'introspection'], ['introspection']),
    proof_of_possession_mtls: fc.constantFrom('off', 'optional', 'strict'),
    bearer_token_param_type: fc.subarray(['header', 'query', 'body', 'cookie'], { minLength: 1 }),
    leeway: fc.integer({ min: 0, max: 60 }),
    scopes_required: fc.option(fc.constantFrom(['read'], ['read write', 'admin']), { nil: undefined }),
    display_errors: fc.constantFrom(true, false, 'on', 'no'),
    consumer_claims: fc.option(fc.constantFrom(['sub'], ['client_id', 'sub']), { nil: undefined }),
    hide_credentials: fc.boolean(),
  })
  .map((c) => {
    const config: Doc = { issuer: 'https://idp.example/realms/x', ...c };
    if (c.bearer_token_param_type.includes('cookie')) config.bearer_token_cookie_name = 'session';
    if (c.auth_methods.includes('introspection')) Object.assign(config, { client_id: ['kong'], client_secret: ['secret'] });
    if (c.scopes_required === undefined) delete config.scopes_required;
    if (c.consumer_claims === undefined) delete config.consumer_claims;
    return config;
  });

const mtlsConfig = fc.record(
  {
    ca_certificates: fc.constant([CA_ID]),
    skip_consumer_lookup: fc.boolean(),
    consumer_by: fc.subarray(['username', 'custom_id']),
    authenticated_group_by: fc.constantFrom('CN', 'DN'),
    revocation_check_mode: fc.constantFrom('IGNORE_CA_ERROR', 'SKIP', 'STRICT'),
    send_ca_dn: fc.boolean(),
    anonymous: fc.constantFrom(null, 'alice'),
  },
  { requiredKeys: ['ca_certificates'] },
);

/** Plugins for one route or service: each name at most once per scope, oidc PoP with a certificate source. */
const scopedPlugins = fc
  .record({
    oidc: fc.option(oidcConfig, { nil: undefined }),
    mtls: fc.option(mtlsConfig, { nil: undefined }),
    handshake: fc.boolean(),
    termination: fc.option(fc.record({ status_code: fc.integer({ min: 100, max: 599 }), message: fc.constantFrom('down', null) }), { nil: undefined }),
  })
  .map(({ oidc, mtls, handshake, termination }) => {
    const out: Doc[] = [];
    if (oidc !== undefined) out.push({ name: 'openid-connect', config: oidc });
    if (mtls !== undefined) out.push({ name: 'mtls-auth', config: mtls });
    const needsSource = oidc !== undefined && oidc.proof_of_possession_mtls !== 'off' && mtls === undefined;
    if (handshake || needsSource) out.push({ name: 'tls-handshake-modifier', config: { tls_client_certificate: 'REQUEST' }, protocols: ['https'] });
    if (termination !== undefined) out.push({ name: 'request-termination', config: termination });
    return out;
  });

const service = fc.record({
  url: fc.constantFrom('http://httpbin.konghq.com/anything', 'https://10.0.0.1:8443/base', 'http://upstream.internal', 'https://[::1]:9000'),
  retries: fc.integer({ min: 0, max: 10 }),
  connect_timeout: fc.integer({ min: 1, max: 60000 }),
  tags: fc.subarray(['a', 'b']),
  routes: fc.array(fc.tuple(route, scopedPlugins), { maxLength: 3 }),
  plugins: scopedPlugins,
});

export const validDoc: fc.Arbitrary<Doc> = fc
  .record({
    services: fc.array(service, { minLength: 1, maxLength: 3 }),
    topRoutes: fc.array(fc.tuple(route, fc.boolean()), { maxLength: 2 }),
    consumers: fc.boolean(),
    global: fc.constantFrom('none', 'handshake', 'termination'),
    ids: fc.boolean(),
    certificates: fc.constantFrom('none', 'ec', 'both'),
    upstreamTls: fc.boolean(),
  })
  .map(({ services, topRoutes, consumers, global, ids, certificates, upstreamTls }) => {
    const doc: Doc = {
      _format_version: '3.0',
      ca_certificates: [{ id: CA_ID, cert: CA_CERT, tags: ['ca'] }],
      services: services.map((s, si) => ({
        name: `service-${si}`,
        ...(ids ? { id: `00000000-0000-4000-8000-${String(si).padStart(12, '0')}` } : {}),
        url: s.url,
        retries: s.retries,
        connect_timeout: s.connect_timeout,
        tags: s.tags,
        routes: s.routes.map(([r, plugins], ri) => ({ name: `route-${si}-${ri}`, ...r, plugins })),
        plugins: s.plugins,
      })),
      routes: topRoutes.map(([r, attached], i) => ({ name: `top-${i}`, ...r, ...(attached ? { service: 'service-0' } : {}) })),
      // A consumer for mtls-auth's anonymous, unless the document leaves consumers out (then mtls-auth must not name one).
      consumers: [{ username: 'alice', custom_id: '42', tags: [] }, ...(consumers ? [{ username: 'bob' }, { custom_id: 'only-custom' }] : [])],
    };
    if (certificates !== 'none') {
      const pair = certificates === 'ec' ? { cert: EC_CERT, key: EC_KEY } : { cert: EC_CERT, key: EC_KEY, cert_alt: RSA_CERT, key_alt: RSA_KEY };
      doc.certificates = [{ id: CERT_ID, ...pair, snis: ['example.com', { name: '*.example.org' }] }];
      // An https upstream that verifies with the CA and presents the certificate (mutual TLS).
      if (upstreamTls) Object.assign((doc.services as Doc[])[0]!, { url: 'https://upstream.internal', tls_verify: true, ca_certificates: [CA_ID], client_certificate: { id: CERT_ID } });
    }
    if (global === 'handshake') doc.plugins = [{ name: 'tls-handshake-modifier' }];
    if (global === 'termination') doc.plugins = [{ name: 'request-termination', config: { status_code: 503, trigger: 'X-Maintenance' } }];
    return doc;
  });

// ---------------------------------------------------------------------------------------------
// Mutations: pick a place in the document and delete, replace, retype or garble what is there.

type Path = ReadonlyArray<string | number>;

function allPaths(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => allPaths(v, [...path, i], out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) allPaths(v, [...path, k], out);
  return out;
}

export const nastyString = fc.constantFrom(
  '', ' ', '~/(', '~/a++', '~/(?i)x', '~', '/', '//', '/a/../b', '/%zz', '*', '*.*', 'a.*.b', '__proto__', 'constructor', 'toString',
  '${{ env "DECK_X" }}', 'x'.repeat(300), '\u0000', 'ü', 'on', 'off', 'yes', 'null', '3.0', '1.1', CA_ID, CA_ID.toUpperCase(),
  'service-0', 'route-0-0', 'top-0', 'alice', '42', 'openid-connect', 'mtls-auth', 'tls-handshake-modifier', 'request-termination',
  'header-cert-auth', 'rate-limiting', 'http', 'https', 'grpc', 'tcp', 'GET', 'REQUEST', 'strict', 'http://x', 'https://idp.example',
  'example.com:99999', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', '00000000-0000-4000-8000-000000000000',
);
const leaf = fc.oneof(
  fc.constantFrom<Json | number>(null, true, false, 0, -1, 1.5, 2 ** 53, 1e308, -0, NaN, Infinity, 65536, 426),
  nastyString,
  fc.string({ maxLength: 8 }),
  fc.integer(),
);
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: leaf },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.oneof(nastyString, fc.string({ maxLength: 5 })), leaf, { maxKeys: 3 }) },
);
export const keyName = fc.oneof(
  fc.constantFrom(
    'id', 'name', 'service', 'route', 'consumer', 'plugins', 'routes', 'services', 'consumers', 'config', 'enabled', 'instance_name',
    'protocols', 'hosts', 'paths', 'methods', 'headers', 'snis', 'tags', 'url', 'host', 'port', 'path', 'username', 'custom_id',
    'ca_certificates', 'certificates', 'cert', 'key', '__proto__', 'constructor', 'unknown_field', 'upstreams', '_info', '_transform',
  ),
  fc.string({ maxLength: 6 }),
);

/** A value of another type made from `value`, chosen by `n`. */
function retype(value: unknown, n: number): unknown {
  const options: unknown[] = [];
  if (typeof value === 'string') options.push(Number(value), value === '' ? null : [value], { value }, value.toUpperCase(), `${value}${value}`, true);
  else if (typeof value === 'number') options.push(String(value), -value, value + 0.5, value * 1e6, [value], value !== 0);
  else if (typeof value === 'boolean') options.push(value ? 'yes' : 'no', value ? 'on' : 'off', Number(value), String(value), [value]);
  else if (Array.isArray(value)) {
    const list = value as unknown[];
    options.push(list[0], [], Object.fromEntries(list.entries()), [...list, ...list], list.length, [list]);
  }
  else if (typeof value === 'object' && value !== null) options.push(Object.values(value), [value], {}, JSON.stringify(value), null);
  else options.push({}, [], '', 0);
  return options[n % options.length];
}

type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'retype'; at: number; n: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'duplicate'; at: number }
  | { op: 'nest'; at: number; depth: number; asList: boolean };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: anyValue }),
  fc.record({ op: fc.constant('retype' as const), at: fc.nat(), n: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: keyName, value: anyValue }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  // Wrap a value in many levels of lists or objects (e.g. inside openid-connect's free-form client_jwk).
  fc.record({ op: fc.constant('nest' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 300 }), asList: fc.boolean() }),
);

function parentOf(doc: unknown, path: Path): [unknown, string | number] | null {
  if (path.length === 0) return null;
  let node: unknown = doc;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[key];
  return [node, path[path.length - 1]!];
}

export function mutate(original: Doc, mutations: readonly Mutation[]): unknown {
  let doc: unknown = structuredClone(original);
  for (const m of mutations) {
    const targets = allPaths(doc);
    const path = targets[m.at % targets.length]!;
    const found = parentOf(doc, path);
    const current = found === null ? doc : (found[0] as Record<string | number, unknown>)[found[1]];
    const set = (value: unknown): void => {
      if (found === null) doc = value;
      else (found[0] as Record<string | number, unknown>)[found[1]] = value;
    };
    switch (m.op) {
      case 'delete':
        if (found === null) break;
        if (Array.isArray(found[0])) found[0].splice(Number(found[1]), 1);
        else delete (found[0] as Record<string, unknown>)[found[1]];
        break;
      case 'replace':
        set(structuredClone(m.value));
        break;
      case 'retype':
        set(retype(current, m.n));
        break;
      case 'add':
        if (typeof current === 'object' && current !== null && !Array.isArray(current)) {
          // defineProperty: a `__proto__` key becomes an own property, as JSON.parse makes it.
          Object.defineProperty(current, m.key, { value: structuredClone(m.value), enumerable: true, writable: true, configurable: true });
        } else if (Array.isArray(current)) current.push(structuredClone(m.value));
        break;
      case 'duplicate':
        if (found !== null && Array.isArray(found[0])) found[0].push(structuredClone(current));
        break;
      case 'nest': {
        let value: unknown = current;
        for (let i = 0; i < m.depth; i++) value = m.asList ? [value] : { kty: value };
        set(value);
        break;
      }
    }
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// YAML-ish text: lines of keys, list items, flow collections, anchors, tags and scalars.

const yamlKey = fc.oneof(keyName, fc.constantFrom('_format_version', '<<', '? x', '"quoted key"', "'single'", '[a, b]', '{a: 1}'));
const yamlScalar = fc.oneof(
  nastyString.map((s) => (/[\n:#]/.test(s) ? JSON.stringify(s) : s)),
  fc.constantFrom(
    '"3.0"', "'3.0'", '~', '.inf', '-.inf', '.nan', '0x1F', '0o17', '1e3', '!!str 1', '!!int x', '!!binary AAAA', '!custom x', '!!map {}', '&a x', '*a',
    '*nope', '|', '>-', '|+', '[]', '{}', '[1, [2, [3]]]', '{a: {b: c}}', '"unterminated', "'it''s'", '"\\u0000"', '"\\x"', '@x', '`x', '%x', 'a: b: c',
    '${{ env "DECK_ISSUER" }}', '${{ env "DECK_PORT" | toInt }}', '${{ env "DECK_UNSET" }}', '- x', '? x',
  ),
  fc.string({ maxLength: 6 }),
);
const yamlLine = fc.tuple(fc.integer({ min: 0, max: 8 }), fc.constantFrom('key', 'item', 'itemkey', 'raw', 'marker'), yamlKey, yamlScalar, fc.boolean()).map(
  ([indent, kind, key, scalar, empty]) => {
    const pad = ' '.repeat(indent);
    const value = empty ? '' : ` ${scalar}`;
    switch (kind) {
      case 'key':
        return `${pad}${key}:${value}`;
      case 'item':
        return `${pad}-${value}`;
      case 'itemkey':
        return `${pad}- ${key}:${value}`;
      case 'marker':
        return scalar.length % 3 === 0 ? '---' : scalar.length % 3 === 1 ? '...' : '%YAML 1.2';
      default:
        return `${pad}${scalar}`;
    }
  },
);
export const yamlText = fc
  .tuple(fc.boolean(), fc.array(yamlLine, { maxLength: 14 }), fc.constantFrom('\n', '\r\n', '\n\n'))
  .map(([header, lines, eol]) => (header ? ['_format_version: "3.0"', ...lines] : lines).join(eol));

