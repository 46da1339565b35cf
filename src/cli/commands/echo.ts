import { startEchoServer } from '../../echo/index.js';
import { formatHelp, parseFlags, stringFlag, type FlagSpec } from '../flags.js';
import { stopOnSignals } from './start.js';

const flags: Record<string, FlagSpec> = {
  listen: { type: 'string', description: 'HOST:PORT to listen on', defaultText: '127.0.0.1:8080', env: false },
};

/** `portcullis echo`: the built-in httpbin-like upstream. */
export async function echoCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseFlags(argv, flags, env);
  if (values['help'] === true) {
    console.log(formatHelp('portcullis echo [--listen HOST:PORT]', 'Runs an httpbin-like upstream: /anything, /status/{code}, /delay/{s}.', flags));
    return 0;
  }
  const listen = stringFlag(values, 'listen') ?? '127.0.0.1:8080';
  const match = /^(?:\[(.+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (match === null) throw new TypeError(`--listen: '${listen}' is not HOST:PORT`);
  const server = await startEchoServer({ host: match[1] ?? match[2] ?? '127.0.0.1', port: Number(match[3]) });
  process.stderr.write(`portcullis echo: listening on ${server.url}\n`);
  stopOnSignals(() => server.close());
  return -1;
}
