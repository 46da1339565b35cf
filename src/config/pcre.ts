/**
 * Kong compiles route regexes (paths `~/…`, header values `~*…`) with PCRE; Portcullis runs on
 * JavaScript's RegExp. Most patterns mean the same in both. This translates the PCRE spellings that
 * have a JS equivalent (`(?P<name>`, `(?P=name)`, `\A`, `\z`, `\Z`, a leading `(?i)`, `(?#…)`,
 * `\Q…\E`, `[]…]`) and refuses, by name, the features JS lacks (possessive quantifiers, atomic
 * groups, recursion, mid-pattern flags), so a route never silently matches something else.
 *
 * The router must compile with this same function so that what validates is what runs.
 */

import { setFlagsFromString } from 'node:v8';

export type PcreResult = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly message: string };

class Unsupported extends Error {}

function escapeLiteral(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** Translates one group opener starting at `(`; returns [replacement, characters consumed]. */
function translateGroup(p: string, i: number): [string, number] {
  const rest = p.slice(i);
  const named = /^\(\?P<([A-Za-z_]\w*)>/.exec(rest) ?? /^\(\?'([A-Za-z_]\w*)'/.exec(rest);
  if (named?.[1] !== undefined) return [`(?<${named[1]}>`, named[0].length];
  const backref = /^\(\?P=([A-Za-z_]\w*)\)/.exec(rest);
  if (backref?.[1] !== undefined) return [`\\k<${backref[1]}>`, backref[0].length];
  const comment = /^\(\?#[^)]*\)/.exec(rest);
  if (comment) return ['', comment[0].length];
  if (/^\(\?(:|=|!|<=|<!|<[A-Za-z_])/.test(rest)) return ['(?', 2];
  if (rest.startsWith('(?>')) throw new Unsupported('atomic groups (?>…) are not supported');
  if (rest.startsWith('(?|')) throw new Unsupported('branch reset groups (?|…) are not supported');
  if (/^\(\?(R|[+-]?\d|&|P>)/.test(rest)) throw new Unsupported('recursion and subroutine calls are not supported');
  if (rest.startsWith('(?')) throw new Unsupported('inline flags are only supported at the very start, as (?i)');
  return ['(', 1];
}

/** PCRE source → JS source and flags. Throws `Unsupported` for what JS cannot express. */
function translate(pattern: string): { source: string; flags: string } {
  let flags = '';
  let p = pattern;
  const leading = /^\(\?([a-zA-Z]+)\)/.exec(p);
  if (leading?.[1] !== undefined) {
    for (const f of leading[1]) {
      if (f === 'i' || f === 'm' || f === 's') flags += flags.includes(f) ? '' : f;
      else throw new Unsupported(`inline flag (?${f}) is not supported`);
    }
    p = p.slice(leading[0].length);
  }
  let out = '';
  let inClass = false;
  let afterQuantifier = false;
  for (let i = 0; i < p.length; ) {
    const c = p.charAt(i);
    if (c === '\\') {
      const e = p.charAt(i + 1);
      if (e === 'Q') {
        const end = p.indexOf('\\E', i + 2);
        const literal = p.slice(i + 2, end < 0 ? p.length : end);
        out += escapeLiteral(literal);
        i = end < 0 ? p.length : end + 2;
      } else if (!inClass && (e === 'A' || e === 'z' || e === 'Z')) {
        out += e === 'A' ? '^' : e === 'z' ? '$' : '(?=\\n?$)';
        i += 2;
      } else if (e === 'x' && p.charAt(i + 2) === '{' && p.indexOf('}', i) > 0) {
        const end = p.indexOf('}', i);
        out += `\\u{${p.slice(i + 3, end)}}`;
        flags += flags.includes('u') ? '' : 'u';
        i = end + 1;
      } else {
        if (e === 'p' || e === 'P') flags += flags.includes('u') ? '' : 'u';
        out += c + e;
        i += 2;
      }
      afterQuantifier = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      i += 1;
      continue;
    }
    if (c === '[') {
      // In PCRE a `]` right after `[` or `[^` is a literal; in JS it would close the class.
      const negated = p.charAt(i + 1) === '^';
      const start = i + (negated ? 2 : 1);
      out += negated ? '[^' : '[';
      if (p.charAt(start) === ']') {
        out += '\\]';
        i = start + 1;
      } else {
        i = start;
      }
      inClass = true;
      afterQuantifier = false;
      continue;
    }
    if (c === '(') {
      const [replacement, consumed] = translateGroup(p, i);
      out += replacement;
      i += consumed;
      afterQuantifier = false;
      continue;
    }
    const counted = c === '{' ? /^\{\d+(,\d*)?\}/.exec(p.slice(i)) : null;
    if (c === '+' && afterQuantifier) throw new Unsupported('possessive quantifiers (such as a++) are not supported');
    if (c === '?' && afterQuantifier) {
      out += c; // lazy quantifier: same in JS
      i += 1;
      afterQuantifier = false;
      continue;
    }
    const token = counted ? counted[0] : c;
    out += token;
    i += token.length;
    afterQuantifier = counted !== null || c === '*' || c === '+' || c === '?';
  }
  return { source: out, flags };
}

/** Compiles a PCRE pattern as JS, with extra flags (e.g. `i` for `~*` header values). */
export function compilePcre(pattern: string, extraFlags = ''): PcreResult {
  try {
    const { source, flags } = translate(pattern);
    const all = [...new Set(flags + extraFlags)].join('');
    const regex = new RegExp(source, all);
    return { ok: true, regex: linearVariant(source, all) ?? regex };
  } catch (error) {
    if (error instanceof Unsupported) return { ok: false, message: error.message };
    // V8 says "Invalid regular expression: /source/flags: Unterminated group"; the caller shows the source already.
    if (error instanceof SyntaxError) {
      return { ok: false, message: error.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') };
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Linear-time matching. Route regexes run on attacker-chosen paths and header values, and V8's
// default engine backtracks: `~/(a+)+$` against `/aaaa…a!` takes seconds at 30 characters, with the
// event loop blocked. V8 also has a linear-time engine (the `l` flag, behind
// --enable-experimental-regexp-engine) that gives the same results for the patterns it accepts: no
// back-references, no lookaround, no `i`/`u` flags, small counted repetitions. Every pattern it
// accepts runs on it; a case-insensitive pattern written in ASCII is first spelled out with both
// cases (`a` → `[aA]`) so that it qualifies too. Whatever remains backtracks, and must be run with a
// time limit (src/router/bounded-regex.ts); `runsInLinearTime` tells the two apart.

/** The `l` flag when V8 lets us enable it, else null (then every regex is run with a time limit). */
const linearFlag: string | null = (() => {
  const flag = 'l';
  try {
    setFlagsFromString('--enable-experimental-regexp-engine');
    return new RegExp('a', flag).flags === flag ? flag : null;
  } catch {
    return null;
  }
})();

/** Whether `regex` runs on V8's linear-time engine (a compilePcre result that needs no time limit). */
export function runsInLinearTime(regex: RegExp): boolean {
  return linearFlag !== null && regex.flags.includes(linearFlag);
}

/** The same pattern on the linear-time engine, or null when that engine cannot run it. */
function linearVariant(source: string, flags: string): RegExp | null {
  if (linearFlag === null) return null;
  let linearSource: string | null = source;
  let linearFlags = flags;
  if (flags.includes('i') && !flags.includes('u')) {
    linearSource = spellOutAsciiCase(source);
    linearFlags = flags.replace('i', '');
  }
  if (linearSource === null) return null;
  try {
    return new RegExp(linearSource, linearFlags + linearFlag);
  } catch {
    return null; // "Cannot be executed in linear time"
  }
}

const CLASS_ESCAPES = 'dDwWsS';
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };

/** One escape of a JS (non-unicode) regex source at `at`: its code point, or a class escape (`\d`). */
type Escape = { readonly length: number } & ({ readonly code: number } | { readonly classEscape: string } | { readonly keep: string });

/**
 * Reads the escape at `at` (a backslash). Null for anything this rewrite does not handle
 * (back-references, `\k<…>`, octal, identity escapes of letters): the pattern then keeps `i`.
 */
function readEscape(source: string, at: number, inClass: boolean): Escape | null {
  const e = source.charAt(at + 1);
  if (e === '') return null;
  if (CLASS_ESCAPES.includes(e)) return { length: 2, classEscape: `\\${e}` };
  if (e === 'b' || e === 'B') return inClass ? (e === 'b' ? { length: 2, code: 0x08 } : null) : { length: 2, keep: `\\${e}` };
  const control = CONTROL_ESCAPES[e];
  if (control !== undefined) return { length: 2, code: control };
  if (e === 'c') {
    const letter = source.charAt(at + 2);
    return /^[A-Za-z]$/.test(letter) ? { length: 3, code: letter.charCodeAt(0) % 32 } : null;
  }
  if (e === 'x' || e === 'u') {
    const digits = e === 'x' ? 2 : 4;
    const hex = source.slice(at + 2, at + 2 + digits);
    const code = hex.length === digits && /^[0-9A-Fa-f]+$/.test(hex) ? parseInt(hex, 16) : 0x80;
    return code < 0x80 ? { length: 2 + digits, code } : null;
  }
  if (e === '0') return /[0-9]/.test(source.charAt(at + 2)) ? null : { length: 2, code: 0 };
  if (/[0-9A-Za-z_]/.test(e)) return null;
  const code = e.charCodeAt(0);
  return code < 0x80 ? { length: 2, code } : null;
}

const hex2 = (code: number): string => `\\x${code.toString(16).padStart(2, '0')}`;
const isUpper = (code: number): boolean => code >= 0x41 && code <= 0x5a;
const isLower = (code: number): boolean => code >= 0x61 && code <= 0x7a;

/** `a` → `[aA]` for a letter, else the code point escaped. */
function bothCases(code: number): string {
  if (isUpper(code) || isLower(code)) return `[${hex2(code | 0x20)}${hex2(code & ~0x20)}]`;
  return hex2(code);
}

/**
 * The class starting at `at` (`[`), rebuilt with both cases of every ASCII letter it names; each
 * member is written escaped, so that no `-` can join two of them into a new range.
 */
function spellOutClass(source: string, at: number): { text: string; length: number } | null {
  let i = at + 1;
  const negated = source.charAt(i) === '^';
  if (negated) i++;
  const members: string[] = [];
  const readMember = (): Escape | null => {
    const c = source.charAt(i);
    if (c === '\\') return readEscape(source, i, true);
    const code = c.charCodeAt(0);
    return code < 0x80 ? { length: 1, code } : null;
  };
  for (;;) {
    const c = source.charAt(i);
    if (c === '') return null;
    if (c === ']') break;
    const first = readMember();
    if (first === null || 'keep' in first) return null;
    i += first.length;
    if (source.charAt(i) === '-' && source.charAt(i + 1) !== ']' && source.charAt(i + 1) !== '') {
      i++;
      const last = readMember();
      // `[\d-z]` (a class escape at a range end) is legal in Annex B and means something else: not handled.
      if (last === null || !('code' in first) || !('code' in last)) return null;
      i += last.length;
      const [lo, hi] = [first.code, last.code];
      if (lo > hi) return null;
      members.push(`${hex2(lo)}-${hex2(hi)}`);
      const upper: [number, number] = [Math.max(lo, 0x41), Math.min(hi, 0x5a)];
      const lower: [number, number] = [Math.max(lo, 0x61), Math.min(hi, 0x7a)];
      if (upper[0] <= upper[1]) members.push(`${hex2(upper[0] | 0x20)}-${hex2(upper[1] | 0x20)}`);
      if (lower[0] <= lower[1]) members.push(`${hex2(lower[0] & ~0x20)}-${hex2(lower[1] & ~0x20)}`);
      continue;
    }
    if ('classEscape' in first) members.push(first.classEscape);
    else if (isUpper(first.code) || isLower(first.code)) members.push(hex2(first.code | 0x20), hex2(first.code & ~0x20));
    else members.push(hex2(first.code));
  }
  return { text: `[${negated ? '^' : ''}${members.join('')}]`, length: i + 1 - at };
}

/**
 * A case-insensitive, non-unicode JS regex source spelled out so that it means the same without the
 * `i` flag, or null when it is not written in ASCII only (outside ASCII, `i` folds more than
 * letters; a pattern naming only ASCII can still match any input: without the `u` flag, `i` never
 * makes a non-ASCII character equal to an ASCII one, ECMA-262 Canonicalize).
 */
export function spellOutAsciiCase(source: string): string | null {
  let out = '';
  for (let i = 0; i < source.length; ) {
    const c = source.charAt(i);
    const code = c.charCodeAt(0);
    if (code >= 0x80) return null;
    if (c === '\\') {
      const escape = readEscape(source, i, false);
      if (escape === null) return null;
      out += 'code' in escape ? bothCases(escape.code) : 'classEscape' in escape ? escape.classEscape : escape.keep;
      i += escape.length;
    } else if (c === '[') {
      const rebuilt = spellOutClass(source, i);
      if (rebuilt === null) return null;
      out += rebuilt.text;
      i += rebuilt.length;
    } else if (source.startsWith('(?<', i) && /[A-Za-z_$]/.test(source.charAt(i + 3))) {
      const end = source.indexOf('>', i);
      if (end === -1) return null;
      out += source.slice(i, end + 1); // a group name keeps its letters
      i = end + 1;
    } else {
      out += isUpper(code) || isLower(code) ? bothCases(code) : c;
      i++;
    }
  }
  return out;
}
