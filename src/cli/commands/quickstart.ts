import { join } from 'node:path';
import { loadConfig, formatConfigErrors } from '../../config/index.js';
import { startEchoServer } from '../../echo/index.js';
import { pluginSchemas } from '../../plugins/index.js';
import { defaultSettings } from '../../server/settings.js';
import { formatHelp, parseFlags, stringFlag, type FlagSpec } from '../flags.js';
import { runGateway, stopOnSignals } from './start.js';

const flags: Record<string, FlagSpec> = {
  prefix: { type: 'string', description: 'Working directory', defaultText: '.portcullis/quickstart', env: false },
  'proxy-listen': { type: 'string', description: 'Proxy listeners', defaultText: defaultSettings.proxyListen, env: false },
  'admin-listen': { type: 'string', description: 'Admin API listeners', defaultText: defaultSettings.adminListen, env: false },
  'echo-port': { type: 'string', description: 'Port of the built-in echo upstream', defaultText: '8080', env: false },
};

/** The tutorial's prerequisite entities, pointed at the built-in echo upstream. */
function tutorialEntities(echoUrl: string): string {
  return `_format_version: "3.0"
services:
  - name: example-service
    url: ${echoUrl}/anything
    routes:
      - name: example-route
        paths:
          - "/anything"
`;
}

/**
 * `portcullis quickstart` (what `npm start` runs): the echo upstream and the gateway with the
 * tutorial's service and route. Certificates, the development IdP and the cert-bound token flow
 * join it as those parts land.
 */
export async function quickstartCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseFlags(argv, flags, env);
  if (values['help'] === true) {
    console.log(formatHelp('portcullis quickstart', 'Runs the tutorial locally: echo upstream + gateway.', flags));
    return 0;
  }
  const prefix = stringFlag(values, 'prefix') ?? join('.portcullis', 'quickstart');
  const echoPort = Number(stringFlag(values, 'echo-port') ?? '8080');
  const echo = await startEchoServer({ host: '127.0.0.1', port: echoPort });
  const loaded = loadConfig(tutorialEntities(echo.url), { env, plugins: pluginSchemas });
  if (!loaded.ok) throw new Error(`built-in quickstart configuration is invalid:\n${formatConfigErrors(loaded.errors)}`);
  const gateway = await runGateway(
    {
      ...defaultSettings,
      prefix,
      proxyListen: stringFlag(values, 'proxy-listen') ?? defaultSettings.proxyListen,
      adminListen: stringFlag(values, 'admin-listen') ?? defaultSettings.adminListen,
      accessLog: false,
      logLevel: 'warn',
    },
    env,
  );
  gateway.applyConfig(loaded.config);
  const http = gateway.proxyListeners.find((l) => !l.spec.ssl);
  const https = gateway.proxyListeners.find((l) => l.spec.ssl);
  const lines = ['', 'Portcullis quickstart is running. Try:', ''];
  if (http !== undefined) lines.push(`  curl -i http://localhost:${http.address.port}/anything`);
  if (https !== undefined) lines.push(`  curl -isk https://localhost:${https.address.port}/anything`);
  lines.push('', 'Press Ctrl-C to stop.', '');
  process.stdout.write(lines.join('\n'));
  stopOnSignals(async () => {
    await gateway.close();
    await echo.close();
  });
  return -1;
}
