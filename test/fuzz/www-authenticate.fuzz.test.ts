// Property-based tests of formatChallenge (src/pipeline/www-authenticate.ts): whatever the realm,
// error, description or scope, the header is one RFC 7235 §4.1 challenge that Node can send, and
// every parameter reads back (with a small strict parser below) as the value given, minus what a
// header value cannot carry.
import assert from 'node:assert/strict';
import { validateHeaderValue } from 'node:http';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatChallenge } from '../../src/pipeline/www-authenticate.js';

const RUNS = 1000;

/** RFC 9110 token (tchar). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

interface ParsedChallenge {
  scheme: string;
  params: Array<[string, string]>;
}

/** qdtext: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text. */
function isQdtext(code: number): boolean {
  return code === 0x09 || code === 0x20 || code === 0x21 || (code >= 0x23 && code <= 0x5b) || (code >= 0x5d && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
}

/** quoted-pair's second character: HTAB / SP / VCHAR / obs-text. */
function isQuotable(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
}

/**
 * challenge = auth-scheme [ 1*SP #auth-param ], auth-param = token BWS "=" BWS ( token / quoted-string ),
 * list elements separated by OWS "," OWS. Throws on anything else.
 */
function parseChallenge(header: string): ParsedChallenge {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${i} in ${JSON.stringify(header)}`);
  };
  const token = (): string => {
    const m = TOKEN.exec(header.slice(i));
    if (m === null) return fail('expected a token');
    i += m[0].length;
    return m[0];
  };
  const ows = (): void => {
    while (header[i] === ' ' || header[i] === '\t') i += 1;
  };
  const scheme = token();
  const params: Array<[string, string]> = [];
  if (i === header.length) return { scheme, params };
  if (header[i] !== ' ') fail('expected SP after the scheme');
  while (header[i] === ' ') i += 1;
  for (;;) {
    const key = token();
    ows();
    if (header[i] !== '=') fail('expected "="');
    i += 1;
    ows();
    let value = '';
    if (header[i] === '"') {
      i += 1;
      for (;;) {
        if (i >= header.length) fail('unterminated quoted-string');
        const code = header.charCodeAt(i);
        if (code === 0x22) {
          i += 1;
          break;
        }
        if (code === 0x5c) {
          const next = header.charCodeAt(i + 1);
          if (Number.isNaN(next) || !isQuotable(next)) fail('bad quoted-pair');
          value += header.charAt(i + 1);
          i += 2;
          continue;
        }
        if (!isQdtext(code)) fail(`character U+${code.toString(16).padStart(4, '0')} not allowed in a quoted-string`);
        value += header.charAt(i);
        i += 1;
      }
    } else {
      value = token();
    }
    params.push([key, value]);
    ows();
    if (i === header.length) return { scheme, params };
    if (header[i] !== ',') fail('expected ","');
    i += 1;
    ows();
  }
}

/** What a header value can carry: HTAB, printable ASCII, obs-text (Node refuses everything else). */
function carriable(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && (code >= 0x20 && code !== 0x7f) && code <= 0xff) out += ch;
  }
  return out;
}

/** Characters that break headers and quoting, plus anything at all (lone surrogates included). */
const nastyChar = fc.oneof(
  fc.constantFrom('"', '\\', '\r', '\n', '\t', ' ', ',', '=', '\u0000', '\u007f', '\u0085', '\u00e9', '\u00ff', '\u0100', '\u2028', '\ud800', '\udc00', '\u{1f600}'),
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const text = fc.string({ unit: nastyChar, maxLength: 40 });
const maybeText = fc.option(text, { nil: undefined });

const bearerParams = fc.record({
  realm: maybeText,
  error: fc.oneof(maybeText, fc.constantFrom('invalid_request', 'invalid_token', 'insufficient_scope')),
  error_description: maybeText,
  scope: maybeText,
});

function check(scheme: string, params: Record<string, string | undefined>): void {
  const header = formatChallenge({ scheme, params });
  assert.doesNotThrow(() => validateHeaderValue('www-authenticate', header), `Node refuses ${JSON.stringify(header)}`);
  assert.ok(!/[\r\n]/.test(header), 'no CR or LF');
  const parsed = parseChallenge(header);
  assert.equal(parsed.scheme, scheme);
  const expected = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([k, v]): [string, string] => [k, carriable(v)]);
  assert.deepEqual(parsed.params, expected);
}

describe('fuzz: formatChallenge', () => {
  it('always gives a valid RFC 7235 Bearer challenge whose values read back', () => {
    fc.assert(
      fc.property(bearerParams, (params) => check('Bearer', params)),
      { numRuns: RUNS },
    );
  });

  it('holds for any token scheme and token parameter names', () => {
    const tokenString = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
    fc.assert(
      fc.property(tokenString, fc.dictionary(tokenString, maybeText, { maxKeys: 5 }), (scheme, params) => check(scheme, params)),
      { numRuns: RUNS },
    );
  });

  it('reads back exactly a value that needs nothing dropped', () => {
    const clean = fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), fc.constantFrom('"', '\\')), maxLength: 60 });
    fc.assert(
      fc.property(clean, clean, (realm, description) => {
        const parsed = parseChallenge(formatChallenge({ scheme: 'Bearer', params: { realm, error: 'invalid_token', error_description: description } }));
        assert.deepEqual(parsed.params, [
          ['realm', realm],
          ['error', 'invalid_token'],
          ['error_description', description],
        ]);
      }),
      { numRuns: RUNS },
    );
  });
});
