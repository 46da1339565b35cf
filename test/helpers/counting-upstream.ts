import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An upstream that answers 200 `ok` (with `Vary: Accept-Encoding`) and records the method of each request it gets. */
export interface CountingUpstream {
  readonly server: Server;
  readonly url: string;
  /** Methods of the requests that reached it, in order. */
  readonly methods: string[];
  hits(): number;
}

export async function startCountingUpstream(): Promise<CountingUpstream> {
  const methods: string[] = [];
  const server = createServer((req, res) => {
    methods.push(req.method ?? '');
    res.writeHead(200, { 'content-type': 'text/plain', vary: 'Accept-Encoding' });
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, methods, hits: () => methods.length };
}
