/**
 * request-transformer against a real gateway and the echo upstream: Kong's order of operations on
 * headers, the query string and form and JSON bodies (remove → rename → replace → add → append),
 * the Host header rules, templates from the client's request, http_method (a form moved into the
 * query string for GET), replace.uri, Content-Length of a rewritten body, what is left untouched
 * (another content type, a compressed body, multipart), and Kong's schema messages with their paths.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { pluginSchemas } from '../../src/plugins/index.js';
import { useEchoGateway } from '../helpers/gateway-process.js';
import { echoedHeader, fetchText } from '../helpers/http.js';

interface Echo {
  args: Record<string, string | string[]>;
  headers: Record<string, string>;
  form?: Record<string, string | string[]>;
  json?: unknown;
  data?: string;
  method: string;
  path: string;
  url: string;
}

describe('request-transformer', () => {
  const suite = useEchoGateway(
    ({ echoUrl }) => `_format_version: "3.0"
services:
  - name: echo
    url: ${echoUrl}/anything
    routes:
      - name: headers
        paths: [/headers]
        plugins:
          - name: request-transformer
            config:
              remove: { headers: [x-remove-me, host] }
              rename: { headers: ["x-old:x-new", "x-absent:x-never"] }
              replace: { headers: ["x-replace:replaced", "x-not-there:nope"] }
              add: { headers: ["x-add:added", "x-keep:not-this", "host:ignored.example"] }
              append: { headers: ["x-append:second", "x-fresh:first"] }
      - name: host
        paths: [/host]
        plugins:
          - name: request-transformer
            config:
              replace: { headers: ["host:replaced.example"] }
      - name: templates
        paths: [/templates]
        plugins:
          - name: request-transformer
            config:
              add:
                headers: ["x-from-header:$(headers.x_source)-$(headers['X-Other'] or 'none')", "x-from-query:q=$(query_params.q)"]
                querystring: ["copied:$(headers.x_source)"]
      - name: query
        paths: [/query]
        plugins:
          - name: request-transformer
            config:
              remove: { querystring: [drop] }
              rename: { querystring: ["old:new"] }
              replace: { querystring: ["swap:swapped", "missing:no"] }
              add: { querystring: ["added:a b", "keep:no"] }
              append: { querystring: ["multi:two"] }
      - name: body
        paths: [/body]
        plugins:
          - name: request-transformer
            config:
              remove: { body: [secret] }
              rename: { body: ["old:new"] }
              replace: { body: ["swap:swapped", "missing:no", "off:on"] }
              add: { body: ["added:yes", "keep:no", "off:filled"] }
              append: { body: ["multi:two", "fresh:one"] }
      - name: add-only
        paths: [/add-only]
        plugins:
          - name: request-transformer
            config:
              remove: { body: [secret] }
              add: { body: ["added:yes"] }
      - name: method
        paths: [/method]
        plugins:
          - name: request-transformer
            config: { http_method: GET }
      - name: uri
        paths: [/uri]
        plugins:
          - name: request-transformer
            config:
              replace: { uri: "/anything/rewritten/$(headers.x_version or 'v1')" }
`,
  );
  const call = async (path: string, options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string | Buffer } = {}) => {
    const response = await fetchText(`${suite.gateway.httpUrl}${path}`, { method: options.method ?? 'GET', headers: options.headers, body: options.body });
    assert.equal(response.status, 200, response.text);
    return response.json<Echo>();
  };

  it('headers: remove, rename, replace only what exists, add only what is absent, append another value; Host untouched', async () => {
    const echo = await call('/headers', { headers: { 'x-remove-me': '1', 'x-old': 'moved', 'x-replace': 'before', 'x-keep': 'mine', 'x-append': 'first' } });
    assert.equal(echoedHeader(echo, 'x-remove-me'), undefined);
    assert.equal(echoedHeader(echo, 'x-old'), undefined);
    assert.equal(echoedHeader(echo, 'x-new'), 'moved');
    assert.equal(echoedHeader(echo, 'x-never'), undefined);
    assert.equal(echoedHeader(echo, 'x-replace'), 'replaced');
    assert.equal(echoedHeader(echo, 'x-not-there'), undefined);
    assert.equal(echoedHeader(echo, 'x-add'), 'added');
    assert.equal(echoedHeader(echo, 'x-keep'), 'mine');
    assert.equal(echoedHeader(echo, 'x-append'), 'first,second');
    assert.equal(echoedHeader(echo, 'x-fresh'), 'first');
    assert.equal(echoedHeader(echo, 'host'), new URL(suite.echo.url).host, 'remove and add never touch Host');
  });

  it('replace sets the upstream Host header', async () => {
    const echo = await call('/host');
    assert.equal(echoedHeader(echo, 'host'), 'replaced.example');
  });

  it("templates read the client's headers and query (with _ for -, brackets, a fallback)", async () => {
    const echo = await call('/templates?q=42', { headers: { 'x-source': 'src' } });
    assert.equal(echoedHeader(echo, 'x-from-header'), 'src-none');
    assert.equal(echoedHeader(echo, 'x-from-query'), 'q=42');
    assert.equal(echo.args['copied'], 'src');
    const other = await call('/templates', { headers: { 'x-source': 'a', 'x-other': 'b' } });
    assert.equal(echoedHeader(other, 'x-from-header'), 'a-b');
    assert.equal(echoedHeader(other, 'x-from-query'), 'q=');
  });

  it('query string: the same order of operations, re-encoded as Kong encodes it', async () => {
    const echo = await call('/query?drop=1&old=o&swap=s&keep=k&multi=one');
    assert.deepEqual(echo.args, { new: 'o', swap: 'swapped', keep: 'k', multi: ['one', 'two'], added: 'a b' });
    assert.match(echo.url, /added=a%20b/);
  });

  it('form body: transformed and re-encoded, Content-Length updated', async () => {
    const echo = await call('/body', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'secret=s&old=o&swap=s&keep=k&multi=one&other=x%20y',
    });
    assert.deepEqual(echo.form, { new: 'o', swap: 'swapped', keep: 'k', multi: ['one', 'two'], other: 'x y', added: 'yes', off: 'filled', fresh: 'one' });
    assert.equal(echoedHeader(echo, 'content-length'), String(Buffer.byteLength(echo.data ?? '')));
  });

  it('JSON body: Kong truthiness (false is absent to replace and add), lists appended, Content-Length updated', async () => {
    const echo = await call('/body', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ secret: 's', old: 'o', swap: 1, keep: 'k', multi: ['one'], off: false, nested: { a: 1 } }),
    });
    assert.deepEqual(echo.json, { new: 'o', swap: 'swapped', keep: 'k', multi: ['one', 'two'], off: 'filled', nested: { a: 1 }, added: 'yes', fresh: ['one'] });
    assert.equal(echoedHeader(echo, 'content-length'), String(Buffer.byteLength(echo.data ?? '')));
  });

  it('an empty JSON body gets only the additions; one that does not parse is sent as it was', async () => {
    const empty = await call('/add-only', { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.deepEqual(empty.json, { added: 'yes' });
    const broken = await call('/add-only', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"secret": ' });
    assert.equal(broken.data, '{"secret": ');
  });

  it('leaves other content types, compressed bodies and multipart untouched', async () => {
    const text = await call('/add-only', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'secret=1' });
    assert.equal(text.data, 'secret=1');
    const gz = gzipSync('{"secret":1}');
    const compressed = await fetchText(`${suite.gateway.httpUrl}/add-only`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gz });
    assert.equal(compressed.status, 200);
    assert.equal(echoedHeader(compressed.json<Echo>(), 'content-length'), String(gz.length));
    const multipart = '--b\r\nContent-Disposition: form-data; name="secret"\r\n\r\n1\r\n--b--\r\n';
    const echo = await call('/add-only', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=b' }, body: multipart });
    assert.equal(echoedHeader(echo, 'content-length'), String(multipart.length));
  });

  it('http_method GET sends GET and moves a form body into the query string', async () => {
    const echo = await call('/method?a=1', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=2&b=3' });
    assert.equal(echo.method, 'GET');
    assert.deepEqual(echo.args, { a: ['1', '2'], b: '3' });
  });

  it('replace.uri sets the whole upstream path, from a template', async () => {
    const echo = await call('/uri/ignored?x=1', { headers: { 'x-version': 'v2' } });
    assert.equal(echo.path, '/anything/rewritten/v2');
    assert.deepEqual(echo.args, { x: '1' });
    const fallback = await call('/uri');
    assert.equal(fallback.path, '/anything/rewritten/v1');
  });

  it('loads the form Kong and decK dump: http_method and replace.uri null, every list present', () => {
    const result = loadConfig(
      `_format_version: "3.0"
plugins:
  - name: request-transformer
    config:
      http_method: null
      remove: { body: [], headers: [], querystring: [] }
      rename: { body: [], headers: [], querystring: [] }
      replace: { body: [], headers: [], querystring: [], uri: null }
      add: { body: [], headers: [], querystring: [] }
      append: { body: [], headers: [], querystring: [] }
`,
      { env: {}, plugins: pluginSchemas },
    );
    assert.equal(result.ok, true, JSON.stringify(!result.ok && result.errors));
  });

  it("refuses entries as Kong's schema does, and Lua templates it cannot render, with their paths", () => {
    const result = loadConfig(
      `_format_version: "3.0"
plugins:
  - name: request-transformer
    config:
      http_method: get
      remove: { headers: ["bad header"] }
      rename: { headers: ["x-a:bad value"], body: ["nothing:"] }
      replace: { headers: ["no-colon"], uri: "relative" }
      add: { querystring: ["x:$(uri_captures.user)"], headers: ["x-h:$(string.sub(headers.a, 1, 2))"] }
`,
      { env: {}, plugins: pluginSchemas },
    );
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.errors.map((e) => `${e.path}: ${e.message}`), [
      'plugins[0].config.http_method: invalid value: get',
      "plugins[0].config.remove.headers[0]: 'bad header' is not a valid header",
      "plugins[0].config.rename.body[0]: key 'nothing' has no value",
      "plugins[0].config.rename.headers[0]: 'bad value' is not a valid header",
      'plugins[0].config.replace.headers[0]: invalid value: no-colon',
      "plugins[0].config.add.headers[0]: value '$(string.sub(headers.a, 1, 2))' uses the template $(string.sub(headers.a, 1, 2)), which Portcullis does not render (no Lua): only $(headers.<name>) and $(query_params.<name>), with an optional or '<fallback>'",
      "plugins[0].config.add.querystring[0]: value '$(uri_captures.user)' uses the template $(uri_captures.user), which Portcullis does not render (no Lua): only $(headers.<name>) and $(query_params.<name>), with an optional or '<fallback>'",
      'plugins[0].config.replace.uri: invalid value: relative (a path must start with /)',
    ]);
  });
});
