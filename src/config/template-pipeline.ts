/**
 * The inside of one `${{ … }}` action: a Go text/template pipeline such as
 * `env "DECK_PORT" | toInt` or `indent 4 (env "DECK_CERT")`. Only what decK files use is supported
 * (functions, string/number/bool literals, parentheses, pipes); control structures and variables are
 * refused with a message that says so, rather than half-implemented.
 */
import { TemplateError, type TemplateFunction, type TemplateValue } from './template-functions.js';

type Token =
  | { readonly kind: 'ident'; readonly name: string }
  | { readonly kind: 'literal'; readonly value: TemplateValue }
  | { readonly kind: 'pipe' }
  | { readonly kind: 'open' }
  | { readonly kind: 'close' };

type Operand =
  | { readonly kind: 'ident'; readonly name: string }
  | { readonly kind: 'literal'; readonly value: TemplateValue }
  | { readonly kind: 'group'; readonly pipeline: Pipeline };
type Command = readonly Operand[];
type Pipeline = readonly Command[];

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"',
};

/** Go's interpreted string literal, from the opening quote; returns the value and the end index. */
function readQuoted(src: string, start: number): [string, number] {
  let out = '';
  let i = start + 1;
  while (i < src.length) {
    const c = src.charAt(i);
    if (c === '"') return [out, i + 1];
    if (c === '\n') break;
    if (c !== '\\') {
      out += c;
      i += 1;
      continue;
    }
    const e = src.charAt(i + 1);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = src.slice(i + 2, i + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new TemplateError(`invalid escape \\${e}${hex} in string`);
      const code = parseInt(hex, 16);
      // Go's strconv refuses \u and \U escapes that are not Unicode scalar values (surrogates, beyond U+10FFFF).
      if (e !== 'x' && (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))) throw new TemplateError(`invalid escape \\${e}${hex} in string`);
      out += e === 'x' ? String.fromCharCode(code) : String.fromCodePoint(code);
      i += 2 + len;
    } else if (/^[0-7]{3}$/.test(src.slice(i + 1, i + 4))) {
      out += String.fromCharCode(parseInt(src.slice(i + 1, i + 4), 8));
      i += 4;
    } else {
      throw new TemplateError(`invalid escape \\${e} in string`);
    }
  }
  throw new TemplateError('unterminated quoted string');
}

function parseNumber(text: string): TemplateValue {
  const negative = text.startsWith('-');
  const body = text.replace(/^[+-]/, '');
  const digits = body.replaceAll('_', '');
  // `digits` must still have a digit after the base prefix: `0x_` is bad syntax, not BigInt('0x').
  if (/^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*)$/.test(body) && !/^0\d/.test(body) && /^(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|\d+)$/.test(digits)) {
    const value = BigInt(digits);
    return { type: 'int', value: negative ? -value : value };
  }
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(body)) return { type: 'float', value: Number(text) };
  throw new TemplateError(`bad number syntax: "${text}"`);
}

function startsNumber(src: string, i: number): boolean {
  const c = src.charAt(i);
  const next = src.charAt(i + 1);
  if (/[0-9]/.test(c)) return true;
  if (c === '-' || c === '+') return /[0-9.]/.test(next);
  return c === '.' && /[0-9]/.test(next);
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '|' || c === '(' || c === ')') {
      tokens.push(c === '|' ? { kind: 'pipe' } : c === '(' ? { kind: 'open' } : { kind: 'close' });
      i += 1;
    } else if (c === '"') {
      const [value, end] = readQuoted(src, i);
      tokens.push({ kind: 'literal', value: { type: 'string', value } });
      i = end;
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new TemplateError('unterminated raw quoted string');
      tokens.push({ kind: 'literal', value: { type: 'string', value: src.slice(i + 1, end) } });
      i = end + 1;
    } else if (startsNumber(src, i)) {
      const match = /^[+-]?(?:[eE][+-]|[0-9a-zA-Z_.])+/.exec(src.slice(i));
      const text = match?.[0] ?? c;
      tokens.push({ kind: 'literal', value: parseNumber(text) });
      i += text.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))?.[0] ?? c;
      if (name === 'true' || name === 'false') tokens.push({ kind: 'literal', value: { type: 'bool', value: name === 'true' } });
      else tokens.push({ kind: 'ident', name });
      i += name.length;
    } else if (c === '$' || c === '.') {
      throw new TemplateError('variables and fields are not supported in templates; use env "DECK_…"');
    } else {
      throw new TemplateError(`unexpected "${c}" in action`);
    }
  }
  return tokens;
}

/** Deepest nesting of parentheses; Go's parser stops at its own limit with the same message. */
const MAX_DEPTH = 100;

class Parser {
  #pos = 0;
  #depth = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  parseAll(): Pipeline {
    const pipeline = this.#pipeline();
    if (this.#pos < this.tokens.length) throw new TemplateError('unexpected ")" in action');
    return pipeline;
  }

  #pipeline(): Pipeline {
    const commands: Command[] = [this.#command()];
    while (this.tokens[this.#pos]?.kind === 'pipe') {
      this.#pos += 1;
      commands.push(this.#command());
    }
    return commands;
  }

  #command(): Command {
    const operands: Operand[] = [];
    for (;;) {
      const t = this.tokens[this.#pos];
      if (t === undefined || t.kind === 'pipe' || t.kind === 'close') break;
      this.#pos += 1;
      if (t.kind === 'open') {
        // Parsing and evaluation recurse once per level: thousands of `(` would overflow the stack.
        if (++this.#depth > MAX_DEPTH) throw new TemplateError('max expression depth exceeded');
        const pipeline = this.#pipeline();
        this.#depth -= 1;
        if (this.tokens[this.#pos]?.kind !== 'close') throw new TemplateError('unclosed left paren');
        this.#pos += 1;
        operands.push({ kind: 'group', pipeline });
      } else if (t.kind === 'ident') {
        if (KEYWORDS.has(t.name)) throw new TemplateError(`'${t.name}' actions are not supported in templates`);
        operands.push({ kind: 'ident', name: t.name });
      } else {
        operands.push({ kind: 'literal', value: t.value });
      }
    }
    if (operands.length === 0) throw new TemplateError('missing value for command');
    return operands;
  }
}

function evaluatePipeline(pipeline: Pipeline, functions: ReadonlyMap<string, TemplateFunction>): TemplateValue {
  let piped: TemplateValue | undefined;
  for (const command of pipeline) piped = evaluateCommand(command, piped, functions);
  if (piped === undefined) throw new TemplateError('missing value for command');
  return piped;
}

function evaluateCommand(
  command: Command,
  piped: TemplateValue | undefined,
  functions: ReadonlyMap<string, TemplateFunction>,
): TemplateValue {
  const [head, ...rest] = command;
  if (head === undefined) throw new TemplateError('missing value for command');
  if (head.kind !== 'ident') {
    if (rest.length > 0 || piped !== undefined) throw new TemplateError("can't give argument to non-function");
    return head.kind === 'literal' ? head.value : evaluatePipeline(head.pipeline, functions);
  }
  const fn = functions.get(head.name);
  if (fn === undefined) throw new TemplateError(`function "${head.name}" not defined`);
  const args = rest.map((operand): TemplateValue => {
    if (operand.kind === 'literal') return operand.value;
    if (operand.kind === 'group') return evaluatePipeline(operand.pipeline, functions);
    // A bare function name as an argument is a call without arguments, as in Go.
    return evaluateCommand([operand], undefined, functions);
  });
  if (piped !== undefined) args.push(piped);
  try {
    return fn(args);
  } catch (error) {
    if (error instanceof TemplateError) throw error;
    throw new TemplateError(`error calling ${head.name}: ${String(error)}`);
  }
}

/** Parses and evaluates one action's source; throws `TemplateError` with a user-facing message. */
export function evaluateAction(source: string, functions: ReadonlyMap<string, TemplateFunction>): TemplateValue {
  return evaluatePipeline(new Parser(tokenize(source)).parseAll(), functions);
}
