import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command-line flag with its environment variable (`PORTCULLIS_<NAME>`), default and help. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly description: string;
  /** Shown in help; the value itself comes from the settings defaults. */
  readonly defaultText?: string;
  /** Whether `PORTCULLIS_<NAME>` may set it. */
  readonly env?: boolean;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** `--proxy-listen` → `PORTCULLIS_PROXY_LISTEN`. */
export function envName(flag: string): string {
  return `PORTCULLIS_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Parses argv against the specs; flags not given fall back to their environment variable.
 * Unknown flags are an error (thrown as a TypeError with a readable message).
 */
export function parseFlags(
  argv: readonly string[],
  specs: Readonly<Record<string, FlagSpec>>,
  env: NodeJS.ProcessEnv,
): { values: FlagValues; positionals: string[] } {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.short === undefined ? {} : { short: spec.short }), ...(spec.multiple === true ? { multiple: true } : {}) };
  }
  const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  const values: FlagValues = { ...(parsed.values as FlagValues) };
  for (const [name, spec] of Object.entries(specs)) {
    if (values[name] !== undefined || spec.env === false) continue;
    const fromEnv = env[envName(name)];
    if (fromEnv === undefined || fromEnv === '') continue;
    if (spec.type === 'boolean') values[name] = /^(1|true|on|yes)$/i.test(fromEnv);
    else values[name] = spec.multiple === true ? fromEnv.split(',').map((s) => s.trim()).filter(Boolean) : fromEnv;
  }
  return { values, positionals: parsed.positionals };
}

/** Help text for a command: usage line, description, and one line per flag. */
export function formatHelp(usage: string, description: string, specs: Readonly<Record<string, FlagSpec>>): string {
  const lines = [`Usage: ${usage}`, '', description, '', 'Options:'];
  for (const [name, spec] of Object.entries(specs)) {
    const flag = `${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${spec.type === 'string' ? ' VALUE' : ''}`;
    const extra = [spec.defaultText === undefined ? '' : `default: ${spec.defaultText}`, spec.env === false ? '' : `env: ${envName(name)}`]
      .filter(Boolean)
      .join('; ');
    lines.push(`  ${flag.padEnd(34)} ${spec.description}${extra === '' ? '' : ` (${extra})`}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(34)} Show this help`);
  return lines.join('\n');
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function listFlag(values: FlagValues, name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  return typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/** A positive integer flag, or the default; a bad value is a TypeError naming the flag. */
export function intFlag(values: FlagValues, name: string, fallback: number): number {
  const v = stringFlag(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`--${name}: '${v}' is not a non-negative integer`);
  return n;
}

/** An on/off switch (`true`/`false` too), as Kong's boolean settings are written. */
export function onOffFlag(values: FlagValues, name: string, fallback: boolean): boolean {
  const v = stringFlag(values, name);
  if (v === undefined) return fallback;
  if (v === 'on' || v === 'true') return true;
  if (v === 'off' || v === 'false') return false;
  throw new TypeError(`--${name}: '${v}' is not on or off`);
}
