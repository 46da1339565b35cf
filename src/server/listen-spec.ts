/**
 * Kong's listen syntax: a comma-separated list of `ADDRESS:PORT [flag …]`, e.g.
 * `0.0.0.0:8000, 0.0.0.0:8443 ssl`, `[::1]:8001`, or `off`. Flags Portcullis understands: `ssl`,
 * `http2` (HTTP/2 beside HTTP/1.1: ALPN `h2` with `ssl`, the
 * prior-knowledge preface without), `reuseport`, `backlog=N`; others are refused so a typo is
 * not silently ignored.
 */
export interface ListenSpec {
  readonly host: string;
  readonly port: number;
  readonly ssl: boolean;
  readonly http2: boolean;
  readonly backlog: number | undefined;
}

const knownFlags = new Set(['ssl', 'http2', 'reuseport', 'deferred', 'bind']);

export function parseListen(value: string, setting: string): ListenSpec[] {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === 'off') return [];
  return trimmed.split(',').map((entry) => parseEntry(entry.trim(), setting));
}

function parseEntry(entry: string, setting: string): ListenSpec {
  const [address, ...flags] = entry.split(/\s+/);
  if (address === undefined || address === '') throw new TypeError(`${setting}: empty listen entry`);
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(address);
  if (match === null) throw new TypeError(`${setting}: '${address}' is not ADDRESS:PORT`);
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port > 65535) throw new TypeError(`${setting}: port ${port} is out of range`);
  let ssl = false;
  let http2 = false;
  let backlog: number | undefined;
  for (const flag of flags) {
    if (flag === 'ssl') ssl = true;
    else if (flag === 'http2') http2 = true;
    else if (flag.startsWith('backlog=')) backlog = Number(flag.slice(8));
    else if (!knownFlags.has(flag)) throw new TypeError(`${setting}: unknown listen flag '${flag}' in '${entry}'`);
  }
  return { host, port, ssl, http2, backlog };
}

/** `host:port` for messages, with IPv6 in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
