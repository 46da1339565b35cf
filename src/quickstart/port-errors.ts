// A port that cannot be bound ends the quickstart with one line naming the port, what wanted it and
// the flag that moves it, instead of a stack trace from deep inside a listener.
import { formatAddress, parseListen } from '../server/listen-spec.js';

/** A listener of the quickstart could not bind its port. */
export class PortUnavailableError extends Error {
  readonly code = 'ERR_QUICKSTART_PORT_UNAVAILABLE';
  readonly port: number;

  constructor(port: number, what: string, flag: string, cause: 'in use' | 'not permitted' | 'not available') {
    const advice = cause === 'in use' ? 'stop what uses it, or choose another port' : 'choose another port';
    super(`port ${port} is ${cause === 'in use' ? 'already in use' : cause === 'not permitted' ? 'not permitted for this user' : 'not available'} (${what}); ${advice} with ${flag}`);
    this.name = 'PortUnavailableError';
    this.port = port;
  }
}

interface ListenError {
  code?: string;
  port?: number;
  address?: string;
}

/** The port error for a failed bind, or `error` unchanged when it is something else. */
export function describeBindError(error: unknown, what: string, flag: string, port: number): unknown {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ListenError;
  const cause = e.code === 'EADDRINUSE' ? 'in use' : e.code === 'EACCES' ? 'not permitted' : e.code === 'EADDRNOTAVAIL' ? 'not available' : null;
  if (cause === null) return error;
  return new PortUnavailableError(typeof e.port === 'number' ? e.port : port, what, flag, cause);
}

/** Which of the gateway's listeners (and flag) a failed bind belongs to. */
export function describeGatewayBindError(error: unknown, proxyListen: string, adminListen: string): unknown {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ListenError;
  if (typeof e.port !== 'number') return describeBindError(error, 'gateway', '--proxy-listen or --admin-listen', 0);
  const admin = parseListen(adminListen, 'admin-listen').find((s) => s.port === e.port);
  if (admin !== undefined) return describeBindError(error, `gateway admin API on ${formatAddress(admin.host, admin.port)}`, '--admin-listen', e.port);
  const proxy = parseListen(proxyListen, 'proxy-listen').find((s) => s.port === e.port);
  const what = proxy === undefined ? 'gateway proxy' : `gateway proxy on ${formatAddress(proxy.host, proxy.port)}${proxy.ssl ? ' ssl' : ''}`;
  return describeBindError(error, what, '--proxy-listen', e.port);
}
