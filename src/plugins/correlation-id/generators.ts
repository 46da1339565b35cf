import { randomUUID } from 'node:crypto';
import type { ConnectionInfo } from '../../connection/connection-info.js';

/** What a generator may use: the request's connection (tracker's address, port and counters). */
export type CorrelationIdGenerator = (connection: ConnectionInfo) => string;

/**
 * Kong's worker state (init_worker): one UUID per worker process and a counter, shared by every
 * instance of the plugin in the process, so `uuid#counter` values never repeat within a worker.
 */
const worker = { uuid: randomUUID(), counter: 0 };

/**
 * Kong's tracker needs nginx's connection serial number and the number of requests made on the
 * connection so far. Node has neither: the plugin numbers the connections it sees (per worker) and
 * counts the requests it handles on each, weakly keyed by the connection so nothing outlives it.
 */
const connections = new WeakMap<ConnectionInfo, { readonly serial: number; requests: number }>();
let connectionSerial = 0;

function tracker(connection: ConnectionInfo): string {
  let seen = connections.get(connection);
  if (seen === undefined) {
    seen = { serial: ++connectionSerial, requests: 0 };
    connections.set(connection, seen);
  }
  seen.requests += 1;
  // Kong: fmt("%s-%s-%d-%s-%s-%0.3f", server_addr, server_port, pid, connection, connection_requests, now())
  return `${connection.localAddress}-${connection.localPort}-${process.pid}-${seen.serial}-${seen.requests}-${(Date.now() / 1000).toFixed(3)}`;
}

/** Kong's generators by name. */
export const generators: Readonly<Record<'uuid' | 'uuid#counter' | 'tracker', CorrelationIdGenerator>> = {
  uuid: () => randomUUID(),
  'uuid#counter': () => `${worker.uuid}#${++worker.counter}`,
  tracker,
};
