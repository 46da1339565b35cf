// A scripted upstream: one node:http server per behaviour, so connection-level faults (closing
// kept-alive sockets) touch only the service under test. It counts what it sees: requests, distinct
// connections, and the requests it killed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour = (req: IncomingMessage, res: ServerResponse, info: { requestOnSocket: number; upstream: FaultyUpstream }) => void;

export class FaultyUpstream {
  readonly server: Server;
  /** Requests that arrived (including those the behaviour killed). */
  requests = 0;
  /** Requests destroyed without an answer. */
  killed = 0;
  /** Distinct TCP connections accepted. */
  connections = 0;
  readonly #perSocket = new WeakMap<Socket, number>();
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(behaviour: Behaviour) {
    this.server = createServer((req, res) => {
      this.requests++;
      const n = (this.#perSocket.get(req.socket) ?? 0) + 1;
      this.#perSocket.set(req.socket, n);
      behaviour(req, res, { requestOnSocket: n, upstream: this });
    });
    this.server.on('connection', () => this.connections++);
    // Generous: a behaviour that closes idle sockets does it itself.
    this.server.keepAliveTimeout = 60_000;
  }

  static async start(behaviour: Behaviour): Promise<FaultyUpstream> {
    const upstream = new FaultyUpstream(behaviour);
    await new Promise<void>((resolve, reject) => {
      upstream.server.once('error', reject);
      upstream.server.listen(0, '127.0.0.1', resolve);
    });
    return upstream;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A timer cleared on close (a stalled response must not keep the test process alive). */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  /** Requests that arrived on this connection so far. */
  requestsOn(socket: Socket): number {
    return this.#perSocket.get(socket) ?? 0;
  }

  /** Destroys the request's connection without answering. */
  kill(req: IncomingMessage): void {
    this.killed++;
    req.socket.destroy();
  }

  close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
