import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from './index.js';
import { catalog, lines, loaded, loadErrors } from './test-fixtures.js';

const load = (text: string) => loaded(loadConfig(text, { env: {}, plugins: catalog }));

describe('validation reports every problem at once', () => {
  it('lists each fault with its exact path, grouped by entity in file order', () => {
    const errors = loadErrors(`
_format_version: "3.0"
services:
  - name: api
    url: http://api.example/v1
    retries: many
    connect_timeout: 0
    routes:
      - name: items
        paths: [/items, items, "~/(unclosed"]
        methods: [get]
        hosts: ["*.example.*"]
        protocols: [http, grpc]
        path_handling: v2
        colour: blue
  - host: "bad host"
    port: 70000
plugins:
  - name: openid-connect
    route: items
    config:
      issuer: https://idp.example
      proof_of_possession_mtls: yes
      proof_of_possession_auth_methods_validation: maybe
      proof_of_posession_mtls: strict
`);
    assert.deepEqual(lines(errors), [
      'services[0].retries: must be an integer',
      'services[0].connect_timeout: must be at least 1',
      'services[0].routes[0].colour: unknown field',
      'services[0].routes[0].methods[0]: must be an upper-case HTTP method such as GET',
      'services[0].routes[0].path_handling: must be one of v0, v1',
      "services[0].routes[0].protocols: these sets are mutually exclusive: ('http', 'https'), ('grpc', 'grpcs')",
      'services[0].routes[0].paths[1]: should start with: / (fixed path) or ~/ (regex path)',
      "services[0].routes[0].paths[2]: invalid regex '/(unclosed': Unterminated group",
      'services[0].routes[0].hosts[0]: invalid wildcard: must have at most one wildcard',
      'services[1].port: must be at most 65535',
      'services[1].host: must be a valid host name or IP address',
      'plugins[0].config.proof_of_posession_mtls: unknown field',
      'plugins[0].config.proof_of_possession_mtls: must be one of off, optional, strict',
      'plugins[0].config.proof_of_possession_auth_methods_validation: must be a boolean',
    ]);
  });

  it('refuses prefix paths that requests, routed on their normalised path, could never match', () => {
    assert.deepEqual(lines(loadErrors('_format_version: "3.0"\nroutes:\n  - name: r\n    paths: ["/a//b", "/a/../b", "/fo%6F"]\n')), [
      'routes[0].paths[0]: must not have empty segments',
      "routes[0].paths[1]: non-normalized path, consider using '/b' instead",
      "routes[0].paths[2]: non-normalized path, consider using '/foo' instead",
    ]);
  });

  it('reports missing required fields by their path', () => {
    assert.deepEqual(lines(loadErrors('services:\n  - name: api\n')), [
      '_format_version: required field missing',
      "services[0].host: required field missing (set 'url', or 'host' with 'protocol', 'port', 'path')",
    ]);
  });

  it('refuses format versions other than "3.0", with a hint for 2.x files and bare numbers', () => {
    assert.match(loadErrors('_format_version: "2.1"\n')[0]?.message ?? '', /deck file convert/);
    assert.deepEqual(lines(loadErrors('_format_version: 3.0\n')), [
      '_format_version: must be the string "3.0"; quote it: _format_version: "3.0"',
    ]);
  });

  it('accepts decK bookkeeping keys and ignores them', () => {
    const config = load(`
_format_version: "3.0"
_transform: true
_workspace: default
_info: { select_tags: [team-a], defaults: {} }
_konnect: { control_plane_name: quickstart }
`);
    assert.deepEqual(config.services, []);
  });

  it('refuses decK sections Portcullis does not implement, unless empty', () => {
    assert.deepEqual(lines(loadErrors('_format_version: "3.0"\nvaults: [{name: env}]\nkeys: []\n')), [
      'vaults: vaults are not supported by Portcullis yet',
    ]);
  });
});

describe('YAML 1.1 booleans', () => {
  it('are read as booleans in boolean fields, in any case', () => {
    const config = load(`
_format_version: "3.0"
services:
  - name: api
    host: api.example
    enabled: YES
    tls_verify: off
    routes:
      - paths: [/]
        strip_path: Off
        preserve_host: y
        request_buffering: N
`);
    assert.equal(config.services[0]?.enabled, true);
    assert.equal(config.services[0]?.tls_verify, false);
    assert.equal(config.routes[0]?.strip_path, false);
    assert.equal(config.routes[0]?.preserve_host, true);
    assert.equal(config.routes[0]?.request_buffering, false);
  });

  it('stay strings in string fields', () => {
    const config = load('_format_version: "3.0"\nservices:\n  - name: "on"\n    host: api.example\n    tags: [yes, no]\n');
    assert.equal(config.services[0]?.name, 'on');
    assert.deepEqual(config.services[0]?.tags, ['yes', 'no']);
  });

  it('are not invented from other words', () => {
    assert.deepEqual(lines(loadErrors('_format_version: "3.0"\nservices: [{host: a.example, enabled: enabled}]\n')), [
      'services[0].enabled: must be a boolean',
    ]);
  });
});

describe('empty values', () => {
  it('treat `field:` with no value as absent, as decK does', () => {
    const config = load('_format_version: "3.0"\nservices:\n  - name: api\n    host: api.example\n    path:\n    retries:\n    tags:\n');
    assert.equal(config.services[0]?.path, null);
    assert.equal(config.services[0]?.retries, 5);
    assert.deepEqual(config.services[0]?.tags, []);
  });

  it('keep explicit null where null means something', () => {
    const config = load('_format_version: "3.0"\nservices: [{host: a.example, tls_verify: null}]\n');
    assert.equal(config.services[0]?.tls_verify, null);
  });
});

describe('services', () => {
  it('take protocol, host, port and path instead of url, with the port defaulting from the protocol', () => {
    const config = load('_format_version: "3.0"\nservices:\n  - {name: a, protocol: https, host: API.Example}\n  - {name: b, host: b.example, port: 8080, path: /x}\n');
    assert.deepEqual(
      config.services.map((s) => [s.protocol, s.host, s.port, s.path]),
      [
        ['https', 'api.example', 443, null],
        ['http', 'b.example', 8080, '/x'],
      ],
    );
  });

  it('refuse url together with its parts, and unsupported schemes by name', () => {
    assert.deepEqual(lines(loadErrors('_format_version: "3.0"\nservices:\n  - {url: "http://a.example", port: 81}\n  - {url: "tcp://a.example:9"}\n')), [
      "services[0].port: cannot be set together with 'url'",
      "services[1].url: protocol 'tcp' is not supported by Portcullis (supported: http, https, grpc, grpcs, ws, wss)",
    ]);
  });

  it('keep a url path as written and no path as null', () => {
    const config = load('_format_version: "3.0"\nservices:\n  - {name: a, url: "http://a.example"}\n  - {name: b, url: "https://b.example:8443/a%20b/"}\n');
    assert.equal(config.services[0]?.path, null);
    assert.deepEqual([config.services[1]?.port, config.services[1]?.path], [8443, '/a%20b/']);
  });
});

describe('routes', () => {
  it('need something to match on, as Kong', () => {
    assert.deepEqual(lines(loadErrors('_format_version: "3.0"\nroutes: [{name: r}]\n')), [
      "routes[0]: must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'",
    ]);
  });

  it('lower-case hosts, SNIs and header names, and keep paths as written', () => {
    const config = load(`
_format_version: "3.0"
routes:
  - hosts: [API.Example.com, "*.Example.org:8443"]
    snis: [API.Example.com]
    headers: { X-Version: ["2", "~*^v\\\\d+$"] }
    paths: ["~/Items/(?P<id>\\\\d+)$"]
`);
    const [route] = config.routes;
    assert.deepEqual(route?.hosts, ['api.example.com', '*.example.org:8443']);
    assert.deepEqual(route?.snis, ['api.example.com']);
    assert.deepEqual(route?.headers, { 'x-version': ['2', '~*^v\\d+$'] });
    assert.deepEqual(route?.paths, ['~/Items/(?P<id>\\d+)$']);
    assert.equal(route?.service, null);
  });

  it('refuse a host header, bad wildcards, SNIs on plain http and bad header regexes', () => {
    const errors = loadErrors(`
_format_version: "3.0"
routes:
  - protocols: [http]
    hosts: [a.*.example]
    snis: [a.example]
    headers: { Host: [x], x-v: ["~*("] }
`);
    assert.deepEqual(lines(errors), [
      'routes[0].hosts[0]: invalid wildcard: must be placed at leftmost or rightmost label',
      "routes[0].headers.Host: cannot contain 'host' header, which must be specified in the 'hosts' attribute",
      "routes[0].headers.x-v[0]: invalid regex '(': Unterminated group",
      "routes[0].snis: 'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'",
    ]);
  });

  it('accept an https-only route that matches on SNIs alone', () => {
    const config = load('_format_version: "3.0"\nroutes: [{protocols: [https], snis: ["*.example.com"]}]\n');
    assert.deepEqual(config.routes[0]?.snis, ['*.example.com']);
  });

  it('number routes in file order: nested under services first, then top-level', () => {
    const config = load(`
_format_version: "3.0"
routes:
  - {name: c, paths: [/c]}
services:
  - name: s
    host: s.example
    routes:
      - {name: a, paths: [/a]}
      - {name: b, paths: [/b]}
`);
    assert.deepEqual(config.routes.map((r) => [r.name, r.order]), [['a', 0], ['b', 1], ['c', 2]]);
  });
});

describe('WebSocket services and routes (Kong Enterprise: ws, wss)', () => {
  it('load ws and wss services and routes, and keep the family apart from http', () => {
    const config = load('_format_version: "3.0"\nservices:\n  - name: w\n    url: wss://live.example\n    routes: [{ name: w, protocols: [ws, wss], paths: [/live] }]\n');
    assert.deepEqual([config.services[0]?.protocol, config.services[0]?.port, config.routes[0]?.protocols], ['wss', 443, ['ws', 'wss']]);
    assert.deepEqual(lines(loadErrors('_format_version: "3.0"\nroutes: [{ protocols: [http, ws], paths: [/x] }]\n')), [
      "routes[0].protocols: these sets are mutually exclusive: ('http', 'https'), ('ws', 'wss')",
    ]);
  });
});

describe('gRPC services and routes (Kong: services.lua, the grpc subschema of routes_subschemas.lua)', () => {
  it('load grpc and grpcs services with their default ports, and gRPC routes that never strip the path', () => {
    const config = load(`
_format_version: "3.0"
services:
  - name: g
    url: grpc://grpc.example
    routes: [{ name: g, protocols: [grpc, grpcs], paths: ["/pkg.Service/"] }]
  - name: gs
    url: grpcs://grpcs.example
    routes: [{ name: gs, protocols: [grpcs], hosts: [api.example], strip_path: false }]
`);
    assert.deepEqual(config.services.map((s) => [s.protocol, s.port, s.path]), [['grpc', 80, null], ['grpcs', 443, null]]);
    assert.deepEqual(config.routes.map((r) => [r.name, r.protocols, r.strip_path]), [['g', ['grpc', 'grpcs'], false], ['gs', ['grpcs'], false]]);
  });

  it("refuse what Kong refuses: a path on a gRPC service, methods or strip_path: true on a gRPC route, no matcher, mixing http and grpc", () => {
    assert.deepEqual(
      lines(
        loadErrors(`
_format_version: "3.0"
services:
  - name: a
    url: grpc://a.example/prefix
  - name: b
    protocol: grpcs
    host: b.example
    path: /prefix
    routes:
      - { name: m, protocols: [grpc], paths: [/x], methods: [POST], strip_path: true }
      - { name: none, protocols: [grpcs] }
      - { name: plain, protocols: [grpc] }
      - { name: mixed, protocols: [grpc, https], paths: [/y] }
`),
      ),
      [
        "services[0].url: must not have a path when the protocol is 'grpc'",
        'services[1].path: value must be null',
        "services[1].routes[0].methods: cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'",
        "services[1].routes[0].strip_path: cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'",
        "services[1].routes[1]: must set one of 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'grpcs'",
        "services[1].routes[2]: must set one of 'hosts', 'headers', 'paths' when 'protocols' is 'grpc'",
        "services[1].routes[3].protocols: these sets are mutually exclusive: ('grpc', 'grpcs'), ('http', 'https')",
      ],
    );
  });
});
