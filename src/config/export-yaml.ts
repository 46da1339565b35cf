/**
 * A decK document as YAML text, the way `deck gateway dump` writes it: block style, PEMs as literal
 * blocks, quoted where YAML 1.1 (decK) would misread a string (`on`, `no`), no line folding (folding would change nothing for a parser but makes diffs noisy), and
 * the same bytes for the same document so that dump → sync → dump is byte-identical.
 */
import { stringify } from 'yaml';
import type { DeckDocument } from './export.js';

/** YAML text of `doc`; keys keep their order. */
export function toDeckYaml(doc: DeckDocument): string {
  return stringify(doc, { lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false, version: '1.1' });
}
