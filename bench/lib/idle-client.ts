/**
 * Opens N TLS connections with a client certificate to a URL, sends one keep-alive request on each,
 * and then holds them idle until stdin closes. Prints `open N` when all are established and
 * answered. Run as its own process (bench/run.ts) so its memory and CPU are not the gateway's.
 * Argument: JSON { port, path, cert, key, count, concurrency }.
 */
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';

interface Options {
  port: number;
  path: string;
  cert: string;
  key: string;
  count: number;
  concurrency: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const cert = readFileSync(options.cert);
const key = readFileSync(options.key);
const sockets: TLSSocket[] = [];
let failed = 0;

function openOne(): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: options.port, cert, key, rejectUnauthorized: false }, () => {
      socket.write(`GET ${options.path} HTTP/1.1\r\nHost: bench\r\n\r\n`);
    });
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (!answered && chunk.toString('latin1').startsWith('HTTP/1.1 ')) {
        answered = true;
        if (!chunk.toString('latin1').startsWith('HTTP/1.1 200')) failed++;
        sockets.push(socket);
        resolve();
      }
    });
    socket.on('error', () => {
      if (!answered) {
        failed++;
        resolve();
      }
    });
  });
}

let next = 0;
async function worker(): Promise<void> {
  while (next < options.count) {
    next++;
    await openOne();
  }
}
await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
console.log(`open ${sockets.filter((s) => !s.destroyed).length} failed ${failed}`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
