import {
  defaultQuickstartOptions,
  formatCheckResult,
  formatRequestLine,
  formatSummary,
  formatTryIt,
  onPath,
  runQuickstartChecks,
  startQuickstart,
  type CheckResult,
  type QuickstartOptions,
} from '../../quickstart/index.js';
import { formatHelp, intFlag, parseFlags, stringFlag, type FlagSpec } from '../flags.js';
import { stopOnSignals } from './start.js';

const d = defaultQuickstartOptions;
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const flags: Record<string, FlagSpec> = {
  check: { type: 'boolean', description: 'Run the tutorial\'s steps, print PASS/FAIL for each, stop; exit code 0 only when all pass', env: false },
  prefix: { type: 'string', description: 'Working directory (certificates, IdP keys, the applied decK files)', defaultText: d.prefix, env: false },
  'proxy-listen': { type: 'string', description: 'Proxy listeners, Kong syntax; needs an ssl one', defaultText: d.proxyListen, env: false },
  'admin-listen': { type: 'string', description: 'Admin API listeners; needs a plain HTTP one', defaultText: d.adminListen, env: false },
  'idp-port': { type: 'string', description: 'Port of the development IdP on localhost (0 = any free port)', defaultText: String(d.idpPort), env: false },
  'echo-port': { type: 'string', description: 'Port of the echo upstream on 127.0.0.1 (0 = any free port)', defaultText: String(d.echoPort), env: false },
  'log-level': { type: 'string', description: `Gateway log level: ${logLevels.join('|')}`, defaultText: d.logLevel, env: false },
};

const description = [
  'Runs Kong\'s tutorial "Configure OpenID Connect with cert-bound access tokens" on this machine: makes the',
  'certificates once, starts the echo upstream, the development IdP and the gateway, applies the tutorial\'s',
  'configuration as `portcullis apply` does, and prints the tutorial\'s curl commands. Ctrl-C stops everything.',
].join('\n');

function port(value: number, flag: string): number {
  if (value > 65535) throw new TypeError(`--${flag}: ${value} is not a port (0 to 65535)`);
  return value;
}

/** `portcullis quickstart [--check]` (what `npm start` runs). */
export async function quickstartCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, env);
  if (values['help'] === true) {
    console.log(formatHelp('portcullis quickstart [--check] [options]', description, flags));
    return 0;
  }
  if (positionals.length > 0) throw new TypeError(`quickstart: unexpected argument '${positionals[0]}'`);
  const logLevel = stringFlag(values, 'log-level') ?? d.logLevel;
  if (!(logLevels as readonly string[]).includes(logLevel)) throw new TypeError(`--log-level: '${logLevel}' is not one of ${logLevels.join(', ')}`);
  const check = values['check'] === true;
  const options: QuickstartOptions = {
    prefix: stringFlag(values, 'prefix') ?? d.prefix,
    proxyListen: stringFlag(values, 'proxy-listen') ?? d.proxyListen,
    adminListen: stringFlag(values, 'admin-listen') ?? d.adminListen,
    idpPort: port(intFlag(values, 'idp-port', d.idpPort), 'idp-port'),
    echoPort: port(intFlag(values, 'echo-port', d.echoPort), 'echo-port'),
    logLevel: logLevel as QuickstartOptions['logLevel'],
    env,
    log: (line) => process.stderr.write(`portcullis quickstart: ${line}\n`),
    ...(check ? {} : { onRequest: (record) => process.stdout.write(`[gateway] ${formatRequestLine(record)}\n`) }),
  };
  // npm runs scripts from the package root; INIT_CWD is where `npm start` was typed.
  const display = { userDir: env['INIT_CWD'] ?? process.cwd(), hasJq: onPath('jq', env) };

  const quickstart = await startQuickstart(options);
  const header = `Portcullis quickstart: Kong's tutorial "Configure OpenID Connect with cert-bound access tokens" on this machine.`;
  if (check) {
    let results: CheckResult[];
    try {
      process.stdout.write([header, '', ...formatSummary(quickstart, display), '', ''].join('\n'));
      results = await runQuickstartChecks(quickstart);
    } finally {
      await quickstart.close();
    }
    const passed = results.filter((r) => r.passed).length;
    process.stdout.write([...results.map(formatCheckResult), '', `${passed} of ${results.length} checks passed`, ''].join('\n'));
    return passed === results.length ? 0 : 1;
  }

  const lines = [
    header,
    '',
    ...formatSummary(quickstart, display),
    '',
    'Try it (the commands of the tutorial, with this machine\'s ports and paths):',
    '',
    ...formatTryIt(quickstart, display).map((l) => (l === '' ? '' : `  ${l}`)),
    '',
    "Requests through the gateway are shown below as [gateway] lines, with each answer's reason.",
    "'portcullis quickstart --check' runs these steps itself. Press Ctrl-C to stop.",
    '',
  ];
  process.stdout.write(lines.join('\n'));
  stopOnSignals(async () => {
    await quickstart.close();
    process.stderr.write('portcullis quickstart: stopped\n');
  });
  return -1;
}
