/**
 * Kong decK declarative configuration → a frozen, fully resolved `Config`.
 *
 *   text ─ renderTemplate (${{ env "DECK_…" }}) ─ parseConfigText (YAML/JSON)
 *        ─ validateDocument (schemas, rules, plugin configs, references, duplicates)
 *        ─ normalise ─ deepFreeze ─ plugins' checkConfig
 *
 * Every step reports all of its problems as `{ path, message }` values; nothing here throws on bad
 * input, reads the process environment, or touches the network.
 */
import type { PluginSchema } from '../pipeline/plugin.js';
import { runPluginCrossChecks } from './cross-checks.js';
import { ErrorList } from './errors.js';
import { deepFreeze } from './freeze.js';
import { normalise } from './normalise.js';
import { parseConfigText } from './parse.js';
import { renderTemplate } from './template.js';
import type { Config, ConfigError } from './types.js';
import { validateDocument } from './validate.js';

export type * from './types.js';
export { renderTemplate, type RenderResult } from './template.js';
export { formatConfigErrors } from './errors.js';
export { configHash } from './hash.js';
export { compilePcre, type PcreResult } from './pcre.js';

export type LoadResult = { ok: true; config: Config } | { ok: false; errors: ConfigError[] };

export interface LoadObjectOptions {
  /** Schemas of the plugins this build implements, by name; a plugin not in it is an error. */
  readonly plugins: ReadonlyMap<string, PluginSchema>;
  /** Clock for certificate expiry checks; default: now. */
  readonly now?: Date;
  /**
   * The document is the result of entity-by-entity changes (see `CheckContext`); default false:
   * a whole document (a file, `POST /config`) is checked with every rule.
   */
  readonly entityAtATime?: boolean;
}

export interface LoadOptions extends LoadObjectOptions {
  /** Variables for `${{ env "DECK_…" }}`; pass `process.env` from the CLI. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Loads an already-parsed document (admin API JSON, tests). The input is not modified. */
export function loadConfigObject(doc: unknown, options: LoadObjectOptions): LoadResult {
  const validated = validateDocument(doc, options.plugins, options.now ?? new Date());
  if (!validated.ok) return validated;
  const config = deepFreeze(normalise(validated.drafts, options.plugins));
  const errors = new ErrorList();
  runPluginCrossChecks(config, validated.drafts, options.plugins, errors, { entityAtATime: options.entityAtATime ?? false });
  return errors.size > 0 ? { ok: false, errors: errors.toArray() } : { ok: true, config };
}

/** Loads a decK file's text: template, parse, validate, normalise. */
export function loadConfig(text: string, options: LoadOptions): LoadResult {
  const rendered = renderTemplate(text, options.env);
  if (!rendered.ok) return rendered;
  const parsed = parseConfigText(rendered.text);
  if (!parsed.ok) return parsed;
  return loadConfigObject(parsed.value, options);
}

/** The configuration with nothing in it: what a gateway serves before its first load. */
export function emptyConfig(): Config {
  return deepFreeze({
    _format_version: '3.0',
    services: [],
    routes: [],
    plugins: [],
    consumers: [],
    consumer_groups: [],
    ca_certificates: [],
    certificates: [],
    upstreams: [],
    targets: [],
    keyauth_credentials: [],
    basicauth_credentials: [],
    jwt_secrets: [],
    acls: [],
  });
}
