#!/usr/bin/env node
import { version } from '../version.js';
import { certsCommand } from './commands/certs.js';
import { AdminClientError } from './admin-client.js';
import { applyCommand } from './commands/apply.js';
import { dumpCommand } from './commands/dump.js';
import { echoCommand } from './commands/echo.js';
import { idpCommand } from './commands/idp.js';
import { quickstartCommand } from './commands/quickstart.js';
import { startCommand } from './commands/start.js';
import { syncCommand } from './commands/sync.js';
import { validateCommand } from './commands/validate.js';
import { InvalidConfigError } from './load-config-file.js';

type Command = (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

const commands: Record<string, { run: Command; summary: string }> = {
  start: { run: startCommand, summary: 'Start the gateway' },
  validate: { run: validateCommand, summary: 'Validate a decK file offline' },
  apply: { run: applyCommand, summary: 'Create or update entities of a decK file on a running gateway' },
  sync: { run: syncCommand, summary: 'Make a running gateway equal to a decK file' },
  dump: { run: dumpCommand, summary: "Print a running gateway's configuration as decK YAML" },
  echo: { run: echoCommand, summary: 'Run the built-in httpbin-like upstream' },
  quickstart: { run: quickstartCommand, summary: 'Run the tutorial locally (what npm start runs)' },
  certs: { run: certsCommand, summary: "Make the tutorial's CA, server and client certificates; inspect one" },
  idp: { run: idpCommand, summary: 'Run the development identity provider (oidc-provider, Keycloak paths, mTLS)' },
  version: { run: () => Promise.resolve((console.log(version), 0)), summary: 'Print the version' },
};

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return ['Usage: portcullis <command> [options]', '', 'Commands:', ...rows, '', "Run 'portcullis <command> --help' for a command's options."].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') return commands['version']!.run([], process.env);
  const command = commands[name];
  if (command === undefined) {
    console.error(`portcullis: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return command.run(rest, process.env);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof InvalidConfigError || error instanceof TypeError || error instanceof AdminClientError) console.error(`portcullis: ${error.message}`);
    else console.error(`portcullis: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
