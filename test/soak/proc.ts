// What the soak reads about the gateway process from Linux's /proc, and from its admin API metrics.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Client } from 'undici';

/** Resident set size in bytes (VmRSS of /proc/PID/status). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Open file descriptors: the entries of /proc/PID/fd. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The gateway's open fds by what they are. */
export interface FdBreakdown {
  total: number;
  /** TCP sockets in LISTEN state. */
  listening: number;
  /** Connections accepted on the proxy and admin listeners. */
  clients: number;
  /** Connections to the upstream (the gateway's undici pool: up to one per request in flight). */
  upstream: number;
  /** Connections to the IdP (discovery, keys). */
  idp: number;
  /** Everything else: files, pipes, epoll, unix sockets, TCP sockets gone between the two reads. */
  other: number;
}

interface TcpSocket {
  localPort: number;
  remotePort: number;
  listening: boolean;
}

/** TCP sockets of PID's network namespace by inode, from /proc/PID/net/tcp and tcp6. */
function tcpSockets(pid: number): Map<string, TcpSocket> {
  const sockets = new Map<string, TcpSocket>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [local, remote, state, inode] = [f[1], f[2], f[3], f[9]];
      if (local === undefined || remote === undefined || inode === undefined) continue;
      const port = (address: string): number => parseInt(address.slice(address.lastIndexOf(':') + 1), 16);
      sockets.set(inode, { localPort: port(local), remotePort: port(remote), listening: state === '0A' });
    }
  }
  return sockets;
}

/** Counts the entries of /proc/PID/fd and sorts the TCP ones by the ports they use. */
export function fdBreakdown(pid: number, ports: { listeners: readonly number[]; upstream: number; idp: number }): FdBreakdown {
  const fds = readdirSync(`/proc/${pid}/fd`);
  const sockets = tcpSockets(pid);
  const counts: FdBreakdown = { total: fds.length, listening: 0, clients: 0, upstream: 0, idp: 0, other: 0 };
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      counts.other++;
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const socket = inode === undefined ? undefined : sockets.get(inode);
    if (socket === undefined) counts.other++;
    else if (socket.listening) counts.listening++;
    else if (ports.listeners.includes(socket.localPort)) counts.clients++;
    else if (socket.remotePort === ports.upstream) counts.upstream++;
    else if (socket.remotePort === ports.idp) counts.idp++;
    else counts.other++;
  }
  return counts;
}

/** User + system CPU time in seconds (utime and stime of /proc/PID/stat, in USER_HZ = 100). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Prometheus series of `GET /metrics`, keyed by `name{labels}` as written. */
export type Metrics = Map<string, number>;

/** Scrapes the admin API's metrics on a connection of its own, closed afterwards (so it is not an fd of the gateway later). */
export async function scrapeMetrics(adminUrl: string): Promise<Metrics> {
  const client = new Client(adminUrl);
  try {
    const res = await client.request({ path: '/metrics', method: 'GET' });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`GET /metrics: ${res.statusCode}`);
    const metrics: Metrics = new Map();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      metrics.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return metrics;
  } finally {
    await client.close();
  }
}

/** Sum of the series of `name` whose labels satisfy `where`. */
export function metricSum(metrics: Metrics, name: string, where: (labels: string) => boolean = () => true): number {
  let sum = 0;
  for (const [key, value] of metrics) {
    const brace = key.indexOf('{');
    const seriesName = brace === -1 ? key : key.slice(0, brace);
    if (seriesName === name && where(brace === -1 ? '' : key.slice(brace))) sum += value;
  }
  return sum;
}

/** One label's value in a `{a="x",b="y"}` label set. */
export function labelValue(labels: string, label: string): string | undefined {
  return new RegExp(`[{,]${label}="([^"]*)"`).exec(labels)?.[1];
}

/** Per value of `label`, the increase of `name` from `before` to `after` (only non-zero ones). */
export function metricIncreaseBy(before: Metrics, after: Metrics, name: string, label: string, where: (labels: string) => boolean = () => true): Record<string, number> {
  const by: Record<string, number> = {};
  for (const [key, value] of after) {
    if (!key.startsWith(`${name}{`)) continue;
    const labels = key.slice(name.length);
    if (!where(labels)) continue;
    const delta = value - (before.get(key) ?? 0);
    if (delta === 0) continue;
    const v = labelValue(labels, label) ?? '';
    by[v] = (by[v] ?? 0) + delta;
  }
  return by;
}
