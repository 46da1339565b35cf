// Property-based tests of the openid-connect token extraction (src/plugins/openid-connect/extract-token.ts):
// whatever the headers, query string, cookies or body, the only exception is the plugin's AuthFailure,
// a token handed back is a token68 within the length limit, a longer one is refused as too large, and
// a well-formed `Authorization: Bearer <token68>` is always found.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bodyFieldsFormat } from '../../src/pipeline/body-fields.js';
import { extractBodyToken, extractToken, type ExtractOptions, type FoundToken } from '../../src/plugins/openid-connect/extract-token.js';
import { AuthFailure } from '../../src/plugins/openid-connect/responses.js';

const RUNS = 1000;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Runs `f`; returns its result, or the AuthFailure it threw. Anything else thrown fails the property. */
function outcome<T>(f: () => T): T | AuthFailure {
  try {
    return f();
  } catch (error) {
    if (error instanceof AuthFailure) return error;
    throw error;
  }
}

function checkFound(found: FoundToken | null | AuthFailure, maxLength: number): void {
  if (found === null || found instanceof AuthFailure) return;
  assert.ok(found.token.length <= maxLength, 'a token longer than the limit was accepted');
  assert.match(found.token, TOKEN68);
  assert.ok(found.places.length > 0);
  for (const place of found.places) assert.equal(place.token, found.token);
}

const token68 = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,60}={0,2}$/);

/** Pieces that make parsers stumble, glued to arbitrary text. */
const nasty = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 2, arbitrary: token68 },
  {
    weight: 2,
    arbitrary: fc.constantFrom('Bearer', 'bearer ', 'BEARER\t', 'Bearer  ', 'Basic x', '"', ';', '=', '%', '%zz', '%5F', '\t', ' ', '', '\u0000', '\ud800', 'access_token', 'access%5Ftoken=', '&', '+'),
  },
);
const text = fc.array(nasty, { maxLength: 5 }).map((parts) => parts.join(''));
const headerValue = fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: fc.array(text, { maxLength: 3 }) });

/** Header names the extractor reads, names that exist on Object.prototype, and others. */
const headerName = fc.constantFrom('authorization', 'access-token', 'x-access-token', 'cookie', 'x-token', 'constructor', '__proto__', 'tostring', 'content-type');

function headersOf(entries: ReadonlyArray<readonly [string, string | string[]]>): IncomingHttpHeaders {
  // A plain object, as Node's req.headers is (it inherits from Object.prototype). Node joins
  // repeated Cookie headers with "; " (http and http2 alike), so a cookie is always one string;
  // other names may be lists, which the extractor also accepts.
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of entries) headers[name] = name === 'cookie' && Array.isArray(value) ? value.join('; ') : value;
  return headers;
}
const headers = fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 }).map(headersOf);

const query = fc.oneof(
  text,
  fc.array(fc.oneof(fc.tuple(fc.constantFrom('access_token', 'access%5Ftoken', 'ACCESS_TOKEN', 'x', ''), text).map(([k, v]) => `${k}=${v}`), text), { maxLength: 4 }).map((p) => p.join('&')),
);

const options: fc.Arbitrary<ExtractOptions> = fc.record({
  paramTypes: fc.subarray(['header', 'cookie', 'query', 'body']),
  headerName: fc.option(fc.constantFrom('authorization', 'access-token', 'x-token', 'constructor', '__proto__', 'hasownproperty'), { nil: null }),
  cookieName: fc.option(fc.oneof(fc.constantFrom('token', 'access_token', 'constructor', '__proto__'), fc.string({ maxLength: 8 })), { nil: null }),
  maxLength: fc.integer({ min: 1, max: 80 }),
});

describe('fuzz: openid-connect token extraction', () => {
  it('extractToken throws nothing but AuthFailure, and returns only token68 values within the limit', () => {
    fc.assert(
      fc.property(headers, query, options, (h, q, o) => checkFound(outcome(() => extractToken(h, q, o)), o.maxLength)),
      { numRuns: RUNS },
    );
  });

  it('finds a well-formed Authorization: Bearer <token68>, however the scheme is spelled and spaced', () => {
    const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR');
    const space = fc.stringMatching(/^[ \t]{1,3}$/);
    const outer = fc.stringMatching(/^[ \t]{0,2}$/);
    fc.assert(
      fc.property(scheme, space, outer, outer, token68, fc.constantFrom(null, 'authorization'), fc.boolean(), (s, sp, before, after, t, name, unrelated) => {
        const h: IncomingHttpHeaders = { authorization: `${before}${s}${sp}${t}${after}` };
        if (unrelated) Object.assign(h, { 'x-other': 'Bearer other', cookie: 'a=b' });
        const found = extractToken(h, 'a=1', { paramTypes: ['header', 'query', 'body'], headerName: name, cookieName: null, maxLength: 16_384 });
        assert.equal(found?.token, t);
        assert.equal(found.location, 'header');
        assert.equal(found.name, 'authorization');
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a token longer than the limit wherever it is, and accepts it at exactly the limit', () => {
    const place = fc.constantFrom('header', 'query', 'cookie', 'form', 'json');
    fc.assert(
      fc.property(token68, place, fc.integer({ min: -3, max: 3 }), (t, where, delta) => {
        const maxLength = Math.max(1, t.length + delta);
        const o: ExtractOptions = { paramTypes: ['header', 'query', 'cookie', 'body'], headerName: null, cookieName: 'tok', maxLength };
        const result = outcome(() => {
          switch (where) {
            case 'header':
              return extractToken({ authorization: `Bearer ${t}` }, '', o);
            case 'query':
              return extractToken({}, `x=1&access_token=${encodeURIComponent(t)}`, o);
            case 'cookie':
              return extractToken({ cookie: `a=b; tok=${t}` }, '', o);
            case 'form':
              return extractBodyToken(Buffer.from(`access_token=${encodeURIComponent(t)}`), 'form', maxLength);
            default:
              return extractBodyToken(Buffer.from(JSON.stringify({ access_token: t })), 'json', maxLength);
          }
        });
        if (t.length > maxLength) {
          assert.ok(result instanceof AuthFailure, `a ${t.length}-character token passed a limit of ${maxLength}`);
          assert.equal(result.reason, 'token_too_large');
        } else {
          assert.ok(!(result instanceof AuthFailure), `refused: ${result instanceof AuthFailure ? result.reason : ''}`);
          assert.equal(result?.token, t);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('extractBodyToken throws nothing but AuthFailure for any form or JSON body', () => {
    const formBody = fc.oneof(
      fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
      query.map((q) => Buffer.from(q, 'utf8')),
    );
    const jsonBody = fc.oneof(
      fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      fc.record({ access_token: fc.jsonValue() }, { requiredKeys: [] }).map((v) => Buffer.from(JSON.stringify(v))),
      fc.string().map((s) => Buffer.from(`{"access_token":${JSON.stringify(s)}}`)),
      fc.constantFrom('{"__proto__":{"access_token":"x"}}', '{"access_token":"a","access_token":"b"}', '[{"access_token":"a"}]').map((s) => Buffer.from(s)),
    );
    fc.assert(
      fc.property(fc.oneof(formBody.map((b) => [b, 'form'] as const), jsonBody.map((b) => [b, 'json'] as const)), fc.integer({ min: 1, max: 80 }), ([body, format], max) => {
        checkFound(outcome(() => extractBodyToken(body, format, max)), max);
      }),
      { numRuns: RUNS },
    );
  });

  it('bodyFieldsFormat never throws and says form, json or null', () => {
    const name = fc.constantFrom('content-type', 'content-length', 'transfer-encoding', 'content-encoding');
    const value = fc.oneof(text, fc.constantFrom('application/json', 'application/x-www-form-urlencoded; charset=utf-8', 'APPLICATION/VND.API+JSON', '0', '12', 'chunked', 'identity', ' Identity ', 'gzip'));
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 4 }), (entries) => {
        const format = bodyFieldsFormat(headersOf(entries));
        assert.ok(format === null || format === 'form' || format === 'json');
      }),
      { numRuns: RUNS },
    );
  });
});
