/**
 * What `apply` and `sync` send, read as decK reads it: the file (or stdin) rendered with
 * `${{ env "DECK_…" }}` from the environment, then parsed. Validation comes later, against the
 * gateway's state, because a file for `apply` may refer to entities only the gateway has.
 */
import { formatConfigErrors, loadConfigObject, renderTemplate } from '../config/index.js';
import { parseConfigText } from '../config/parse.js';
import type { DeckDocument } from '../config/export.js';
import type { Config } from '../config/types.js';
import { pluginSchemas } from '../plugins/index.js';
import { InvalidConfigError } from './load-config-file.js';
import { readInput } from './read-input.js';

/** The rendered and parsed document of `path` (`-` = stdin); errors name the file. */
export async function readDeckDocument(path: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const name = path === '-' ? 'stdin' : path;
  const rendered = renderTemplate(await readInput(path), env);
  if (!rendered.ok) throw new InvalidConfigError(`${name}: invalid configuration\n${formatConfigErrors(rendered.errors)}`);
  const parsed = parseConfigText(rendered.text);
  if (!parsed.ok) throw new InvalidConfigError(`${name}: invalid configuration\n${formatConfigErrors(parsed.errors)}`);
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidConfigError(`${name}: the configuration must be a mapping of sections`);
  return value as Record<string, unknown>;
}

/** The gateway's configuration loaded locally; a failure means this CLI and the gateway disagree. */
export function loadLiveConfig(document: DeckDocument): Config {
  const loaded = loadConfigObject(document, { plugins: pluginSchemas });
  if (!loaded.ok) {
    throw new InvalidConfigError(
      `the gateway's current configuration does not validate with this portcullis (different versions or plugins?):\n${formatConfigErrors(loaded.errors)}`,
    );
  }
  return loaded.config;
}
