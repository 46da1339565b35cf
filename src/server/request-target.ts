/** Host, port, path and query of a request, from origin-form or absolute-form targets. */
export interface RequestTarget {
  readonly host: string;
  readonly port: number;
  /** The authority as sent (absolute-form target, else the Host header), '' when absent. */
  readonly authority: string;
  readonly path: string;
  readonly query: string;
}

/**
 * Splits the request target (HTTP/2: `:path`), with the Host header (HTTP/2: `:authority`) as its
 * authority. An absolute-form target (`GET http://a/b`) overrides the Host header
 * (RFC 9112 §3.2.2); the host is lower-cased and stripped of its port for routing.
 */
export function parseRequestTarget(url: string, hostHeader: string | undefined, listenerPort: number): RequestTarget {
  let target = url;
  let authority = hostHeader ?? '';
  const absolute = /^https?:\/\/([^/?#]*)/i.exec(target);
  if (absolute !== null) {
    authority = absolute[1] ?? '';
    target = target.slice(absolute[0].length) || '/';
  }
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q + 1);
  const { host, port } = splitAuthority(authority, listenerPort);
  return { host, port, authority, path, query };
}

function splitAuthority(authority: string, fallbackPort: number): { host: string; port: number } {
  const at = authority.lastIndexOf('@');
  const hostPort = (at === -1 ? authority : authority.slice(at + 1)).toLowerCase();
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(hostPort);
  if (bracketed !== null) return { host: bracketed[1] ?? '', port: portOr(bracketed[2], fallbackPort) };
  const colon = hostPort.lastIndexOf(':');
  if (colon !== -1 && hostPort.indexOf(':') === colon) {
    return { host: hostPort.slice(0, colon), port: portOr(hostPort.slice(colon + 1), fallbackPort) };
  }
  return { host: hostPort, port: fallbackPort };
}

function portOr(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text !== undefined && text !== '' && Number.isInteger(n) && n > 0 && n < 65536 ? n : fallback;
}
