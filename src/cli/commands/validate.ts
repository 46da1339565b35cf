import { formatHelp, parseFlags, type FlagSpec } from '../flags.js';
import { loadConfigFile } from '../load-config-file.js';

const flags: Record<string, FlagSpec> = {};

/** `portcullis validate FILE|-`: offline validation, the same errors as `start`; exit 0 or 1. */
export async function validateCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, env);
  if (values['help'] === true || positionals.length !== 1) {
    console.log(formatHelp('portcullis validate FILE|-', 'Validates a decK file offline (templating, schemas, references).', flags));
    return values['help'] === true ? 0 : 2;
  }
  const config = await loadConfigFile(positionals[0] ?? '-', env);
  console.log(
    `configuration is valid: ${config.services.length} services, ${config.routes.length} routes, ${config.plugins.length} plugins, ${config.consumers.length} consumers, ${config.upstreams.length} upstreams, ${config.targets.length} targets`,
  );
  return 0;
}
