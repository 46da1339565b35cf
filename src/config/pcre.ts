/**
 * Kong compiles route regexes (paths `~/…`, header values `~*…`) with PCRE; Portcullis runs on
 * JavaScript's RegExp. Most patterns mean the same in both. This translates the PCRE spellings that
 * have a JS equivalent (`(?P<name>`, `(?P=name)`, `\A`, `\z`, `\Z`, a leading `(?i)`, `(?#…)`,
 * `\Q…\E`, `[]…]`) and refuses, by name, the features JS lacks (possessive quantifiers, atomic
 * groups, recursion, mid-pattern flags), so a route never silently matches something else.
 *
 * The router must compile with this same function so that what validates is what runs.
 */

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
    return { ok: true, regex: new RegExp(source, all) };
  } catch (error) {
    if (error instanceof Unsupported) return { ok: false, message: error.message };
    // V8 says "Invalid regular expression: /source/flags: Unterminated group"; the caller shows the source already.
    if (error instanceof SyntaxError) {
      return { ok: false, message: error.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') };
    }
    throw error;
  }
}
