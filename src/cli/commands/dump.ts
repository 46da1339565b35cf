/**
 * `portcullis dump [--output FILE]`: the running gateway's configuration as decK YAML, references by
 * name, ids and certificate keys included, so that `sync` of the dump restores it exactly. A file
 * written with `--output` is readable by its owner only: it holds private keys.
 */
import { writeFile } from 'node:fs/promises';
import { adminClientFlags, adminClientFrom } from '../admin-client-flags.js';
import { formatHelp, parseFlags, stringFlag, type FlagSpec } from '../flags.js';

const flags: Record<string, FlagSpec> = {
  ...adminClientFlags,
  output: { type: 'string', short: 'o', description: 'Write to this file instead of stdout', env: false },
};

export async function dumpCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, env);
  if (values['help'] === true || positionals.length > 0) {
    console.log(formatHelp('portcullis dump [--output FILE]', "Prints a running gateway's configuration as decK YAML.", flags));
    return values['help'] === true ? 0 : 2;
  }
  const yaml = await adminClientFrom(values).getConfigYaml();
  const output = stringFlag(values, 'output');
  if (output === undefined) process.stdout.write(yaml);
  else await writeFile(output, yaml, { mode: 0o600 });
  return 0;
}
