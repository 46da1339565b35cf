/** Starts the hand-assembled Node stack (node-stack-server.ts) pinned like every other program. */
import { fileURLToPath } from 'node:url';
import { startPinned, waitForOutput, type Program } from '../lib/processes.js';

const server = fileURLToPath(new URL('./node-stack-server.js', import.meta.url));

export interface NodeStackSettings {
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly upstream: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly caCert: string;
  readonly issuer: string;
  readonly audience: string;
}

export async function startNodeStack(cpus: string, settings: NodeStackSettings): Promise<Program> {
  const program = startPinned('node stack (fastify + jose)', cpus, process.execPath, [server, JSON.stringify(settings)]);
  await waitForOutput(program, /node-stack ready/);
  return program;
}
