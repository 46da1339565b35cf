import { formatConfigErrors, loadConfig } from '../config/index.js';
import type { Config } from '../config/types.js';
import { pluginSchemas } from '../plugins/index.js';
import { readInput } from './read-input.js';

/** Thrown when a configuration file is invalid; `message` holds the path-precise errors. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

/** Reads, renders (decK `${{ env }}`), parses and validates a declarative file or stdin. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv): Promise<Config> {
  const text = await readInput(path);
  const result = loadConfig(text, { env, plugins: pluginSchemas });
  if (!result.ok) throw new InvalidConfigError(`${path === '-' ? 'stdin' : path}: invalid configuration\n${formatConfigErrors(result.errors)}`);
  return result.config;
}
