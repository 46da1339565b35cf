/**
 * A TCP forwarder on a loopback port to a server, to partition one client from it while the server
 * and its other clients carry on: `cut()` resets every open connection (as a failed link or a
 * firewall rule would: no goodbye at either end) and resets each new one at once, until `heal()`.
 * With `after` it closes with the test file whatever happens.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after } from 'node:test';

export interface TcpForwarder {
  /** The loopback port to point the client at. */
  readonly port: number;
  /** Connections forwarded to the server so far (those reset while cut are not counted). */
  readonly forwarded: number;
  /** Connections open through it now. */
  readonly open: number;
  /** Resets every open connection and refuses new ones until `heal()`. */
  cut(): void;
  /** Forwards new connections again. */
  heal(): void;
  close(): Promise<void>;
}

// A test that fails half-way must not hang its file on a listening forwarder.
const live = new Set<Server>();
after(() => {
  for (const server of live) server.close();
});

export async function startTcpForwarder(target: { readonly host: string; readonly port: number }): Promise<TcpForwarder> {
  const pairs = new Set<readonly [Socket, Socket]>();
  let cut = false;
  let forwarded = 0;
  const server = createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    forwarded++;
    const upstream = connect(target.port, target.host);
    const pair = [client, upstream] as const;
    pairs.add(pair);
    // Bytes both ways, an end both ways (pipe ends the other side); a failure or a close of either
    // end takes the other with it, so that no half of a connection is left behind.
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.on('error', drop);
      socket.once('close', () => {
        pairs.delete(pair);
        for (const other of pair) if (other !== socket && !other.destroyed) other.end();
      });
    }
  });
  live.add(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  const resetAll = (): void => {
    for (const pair of pairs) for (const socket of pair) socket.resetAndDestroy();
    pairs.clear();
  };
  return {
    port,
    get forwarded() {
      return forwarded;
    },
    get open() {
      return pairs.size;
    },
    cut() {
      cut = true;
      resetAll();
    },
    heal() {
      cut = false;
    },
    async close() {
      cut = true;
      resetAll();
      live.delete(server);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
