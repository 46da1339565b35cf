/**
 * The functions decK offers inside `${{ … }}`: `env`, `toBool`, `toInt`, `toFloat`, `indent`, with
 * Go's parsing rules (strconv) and Go's printing rules (fmt), so a file renders here exactly as it
 * renders under `deck`. Values carry their Go type because printing depends on it.
 */

export type TemplateValue =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'int'; readonly value: bigint }
  | { readonly type: 'float'; readonly value: number };

/** A failure while evaluating an action; the renderer adds the position. */
export class TemplateError extends Error {}

export type TemplateFunction = (args: readonly TemplateValue[]) => TemplateValue;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function goTypeName(v: TemplateValue): string {
  return v.type === 'float' ? 'float64' : v.type;
}

function expectArity(name: string, args: readonly TemplateValue[], n: number): void {
  if (args.length !== n) throw new TemplateError(`wrong number of args for ${name}: want ${n} got ${args.length}`);
}

function stringArg(args: readonly TemplateValue[], i: number): string {
  const v = args[i];
  if (v === undefined || v.type !== 'string') {
    throw new TemplateError(`wrong type for value; expected string; got ${v === undefined ? 'nothing' : goTypeName(v)}`);
  }
  return v.value;
}

function intArg(args: readonly TemplateValue[], i: number): number {
  const v = args[i];
  if (v?.type === 'int') return Number(v.value);
  // Go converts an untyped constant such as 4.0 to int when it is a whole number.
  if (v?.type === 'float' && Number.isInteger(v.value)) return v.value;
  throw new TemplateError(`wrong type for value; expected int; got ${v === undefined ? 'nothing' : goTypeName(v)}`);
}

/** strconv.ParseBool: exactly these spellings, nothing YAML-ish such as `yes`. */
function parseGoBool(text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new TemplateError(`toBool: cannot parse "${text}" as a boolean (use true or false)`);
}

/** strconv.Atoi: optional sign, decimal digits, 64-bit range. */
function parseGoInt(text: string): bigint {
  if (!/^[+-]?\d+$/.test(text)) throw new TemplateError(`toInt: cannot parse "${text}" as an integer`);
  const value = BigInt(text);
  if (value < INT64_MIN || value > INT64_MAX) throw new TemplateError(`toInt: "${text}" is out of range`);
  return value;
}

/** strconv.ParseFloat for the decimal forms people write (hex floats are not accepted). */
function parseGoFloat(text: string): number {
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new TemplateError(`toFloat: cannot parse "${text}" as a number`);
  }
  const value = Number(text);
  if (!Number.isFinite(value)) throw new TemplateError(`toFloat: "${text}" is out of range`);
  return value;
}

/**
 * fmt's `%v` for a float64: the shortest digits that round-trip, in exponent form when the decimal
 * exponent is below -4 or at least 6 (Go's `%g` at shortest precision), so 1000000 prints `1e+06`
 * here as it does under decK. YAML reads either form back as the same number.
 */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa = '0', expText = '0'] = value.toExponential().split('e');
  const exponent = Number(expText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

/** How Go's text/template prints the value of an action. */
export function printValue(v: TemplateValue): string {
  switch (v.type) {
    case 'string':
      return v.value;
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'int':
      return v.value.toString();
    case 'float':
      return formatGoFloat(v.value);
  }
}

/** decK's function table, reading variables from `env` rather than the process. */
export function deckFunctions(env: Readonly<Record<string, string | undefined>>): ReadonlyMap<string, TemplateFunction> {
  return new Map<string, TemplateFunction>([
    [
      'env',
      (args) => {
        expectArity('env', args, 1);
        const name = stringArg(args, 0);
        if (!name.startsWith('DECK_')) {
          throw new TemplateError(`environment variables in the state file must be prefixed with 'DECK_', found: '${name}'`);
        }
        const value = Object.hasOwn(env, name) ? env[name] : undefined;
        if (value === undefined) throw new TemplateError(`environment variable '${name}' present in state file but not set`);
        return { type: 'string', value };
      },
    ],
    ['toBool', (args) => (expectArity('toBool', args, 1), { type: 'bool', value: parseGoBool(stringArg(args, 0)) })],
    ['toInt', (args) => (expectArity('toInt', args, 1), { type: 'int', value: parseGoInt(stringArg(args, 0)) })],
    ['toFloat', (args) => (expectArity('toFloat', args, 1), { type: 'float', value: parseGoFloat(stringArg(args, 0)) })],
    [
      'indent',
      (args) => {
        expectArity('indent', args, 2);
        const pad = ' '.repeat(Math.max(0, intArg(args, 0)));
        // As decK: every line but the first gets the padding; the first sits where the action is.
        return { type: 'string', value: stringArg(args, 1).replaceAll('\n', `\n${pad}`) };
      },
    ],
  ]);
}
