/** Portcullis as the benchmark runs it: the compiled CLI with the bin's node flags, pinned, access log off, given workers. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withGatewayNodeFlags } from '../../src/runtime/node-flags.js';
import { startPinned, waitForOutput, type Program } from './processes.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface PortcullisProcess {
  readonly program: Program;
  readonly http: number;
  readonly https: number;
  /** The admin API's port, when started with `admin`; else null. */
  readonly admin: number | null;
}

export interface PortcullisOptions {
  workers?: number;
  extraArgs?: string[];
  nodeArgs?: string[];
  /** Open the admin API on a loopback port (a node whose configuration comes through it, from a database). */
  admin?: boolean;
}

/** `config`: the decK file it loads at start, or null for a node that reads its configuration from a database. */
export async function startPortcullis(name: string, dir: string, cpus: string, config: string | null, options: PortcullisOptions = {}): Promise<PortcullisProcess> {
  const file = join(dir, `${name}.yaml`);
  if (config !== null) await writeFile(file, config);
  const program = startPinned(`portcullis ${name}`, cpus, process.execPath, [
    // As the portcullis bin launches it (its shebang carries the young-generation cap).
    ...withGatewayNodeFlags(options.nodeArgs ?? [], ''),
    cli, 'start', ...(config === null ? [] : ['-c', file]), '--prefix', join(dir, `prefix-${name}`),
    '--proxy-listen', '127.0.0.1:0 backlog=4096, 127.0.0.1:0 http2 ssl backlog=4096',
    '--admin-listen', options.admin === true ? '127.0.0.1:0' : 'off', '--access-log', 'off', '--log-level', 'warn',
    '--workers', String(options.workers ?? 1),
    ...(options.extraArgs ?? []),
  ]);
  const ports = await waitForOutput(program, /proxy listening on http:\/\/127\.0\.0\.1:(\d+)[\s\S]*proxy listening on https:\/\/127\.0\.0\.1:(\d+)/);
  const admin = options.admin === true ? Number((await waitForOutput(program, /admin listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]) : null;
  return { program, http: Number(ports[1]), https: Number(ports[2]), admin };
}
