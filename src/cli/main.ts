#!/usr/bin/env -S node --max-semi-space-size=16
import { version } from '../version.js';
import { unsupportedRuntime } from './runtime-support.js';

type Command = (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

// Each command is imported only when it runs: `portcullis version` should not load the gateway,
// and `portcullis start` should not load oidc-provider (the IdP) or pkijs (PKCS#12).
const commands: Record<string, { load: () => Promise<Command>; summary: string }> = {
  start: { load: async () => (await import('./commands/start.js')).startCommand, summary: 'Start the gateway' },
  validate: { load: async () => (await import('./commands/validate.js')).validateCommand, summary: 'Validate a decK file offline' },
  apply: { load: async () => (await import('./commands/apply.js')).applyCommand, summary: 'Create or update entities of a decK file on a running gateway' },
  sync: { load: async () => (await import('./commands/sync.js')).syncCommand, summary: 'Make a running gateway equal to a decK file' },
  dump: { load: async () => (await import('./commands/dump.js')).dumpCommand, summary: "Print a running gateway's configuration as decK YAML" },
  echo: { load: async () => (await import('./commands/echo.js')).echoCommand, summary: 'Run the built-in httpbin-like upstream' },
  quickstart: { load: async () => (await import('./commands/quickstart.js')).quickstartCommand, summary: 'Run the tutorial locally (what npm start runs)' },
  certs: { load: async () => (await import('./commands/certs.js')).certsCommand, summary: "Make the tutorial's CA, server and client certificates; inspect one" },
  dpop: { load: async () => (await import('./commands/dpop.js')).dpopCommand, summary: 'Make a DPoP key and proofs (RFC 9449); inspect a proof' },
  migrations: { load: async () => (await import('./commands/migrations.js')).migrationsCommand, summary: 'Bootstrap, upgrade or list the PostgreSQL schema (--database postgres)' },
  idp: { load: async () => (await import('./commands/idp.js')).idpCommand, summary: 'Run the development identity provider (oidc-provider, Keycloak paths, mTLS)' },
  version: { load: () => Promise.resolve(() => Promise.resolve((console.log(version), 0))), summary: 'Print the version' },
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
  if (name === '--version' || name === '-v') return (await commands['version']!.load())([], process.env);
  const command = commands[name];
  if (command === undefined) {
    console.error(`portcullis: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const unsupported = name === 'version' ? null : unsupportedRuntime(process.version);
  if (unsupported !== null) throw new Error(unsupported);
  return (await command.load())(rest, process.env);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    // Every failure is one readable line (invalid configuration, bad flag, admin API refusal…).
    console.error(`portcullis: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
