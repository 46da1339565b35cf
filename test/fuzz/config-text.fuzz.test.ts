// Property-based tests of the decK loader on text (src/config: loadConfig = template, parse, validate):
// arbitrary strings, YAML-ish text, valid documents written as YAML and then mutated (as data or
// character by character), and deeply nested YAML all give either a config that round-trips through
// its export or a non-empty list of `{ path, message }` errors; nothing throws.
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toDeckYaml } from '../../src/config/export-yaml.js';
import { checkText, mutate, mutation, nastyString, validDoc, yamlText, type Doc } from './config-arbitraries.js';

/** A character-level edit of a text: insert, delete, replace, duplicate a line, re-indent a line. */
const edit = fc.tuple(fc.constantFrom('insert', 'delete', 'replace', 'line', 'indent'), fc.nat(), fc.oneof(fc.constantFrom(' ', '\n', ':', '-', '"', "'", '[', '{', '&a', '*a', '#', '\t', '${{', '}}', '!!'), nastyString));

function applyEdits(text: string, edits: ReadonlyArray<readonly [string, number, string]>): string {
  let out = text;
  for (const [op, at, piece] of edits) {
    const i = out.length === 0 ? 0 : at % out.length;
    const lines = out.split('\n');
    const l = at % lines.length;
    switch (op) {
      case 'insert':
        out = out.slice(0, i) + piece + out.slice(i);
        break;
      case 'delete':
        out = out.slice(0, i) + out.slice(i + 1 + (at % 7));
        break;
      case 'replace':
        out = out.slice(0, i) + piece + out.slice(i + piece.length);
        break;
      case 'line':
        lines.splice(l, 0, lines[l] ?? '');
        out = lines.join('\n');
        break;
      default:
        lines[l] = ' '.repeat(at % 5) + (lines[l] ?? '').trimStart();
        out = lines.join('\n');
    }
  }
  return out;
}

describe('fuzz: decK loader, text', () => {
  it('arbitrary strings and YAML-ish text never throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), yamlText), (text) => {
        checkText(text);
      }),
      { numRuns: 800 },
    );
  });

  it('valid documents written as YAML, then mutated as data, never throw', () => {
    fc.assert(
      fc.property(validDoc, fc.array(mutation, { minLength: 1, maxLength: 3 }), (doc, mutations) => {
        let text: string;
        try {
          text = toDeckYaml(mutate(doc, mutations) as Doc);
        } catch {
          return; // not something yaml can write
        }
        checkText(text);
      }),
      { numRuns: 150 },
    );
  });

  it('valid documents written as YAML, then edited character by character, never throw', () => {
    fc.assert(
      fc.property(validDoc, fc.array(edit, { minLength: 1, maxLength: 4 }), (doc, edits) => {
        checkText(applyEdits(toDeckYaml(doc), edits));
      }),
      { numRuns: 150 },
    );
  });

  it('deeply nested YAML never throws (nor aborts the process)', () => {
    const nested = fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.constantFrom('[', '{a: ', '- ', 'a:\n', '[{a: ')).map(([depth, open]) => {
      if (open === '- ') return '- '.repeat(depth) + 'x';
      if (open === 'a:\n') return Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1';
      const close = open === '[' ? ']' : open === '{a: ' ? '}' : '}]';
      return `_format_version: "3.0"\n_info: ${open.repeat(depth)}1${close.repeat(depth)}`;
    });
    fc.assert(
      fc.property(nested, (text) => {
        checkText(text);
      }),
      { numRuns: 100 },
    );
  });
});
