import type { Duplex } from 'node:stream';

/** Why a tunnel ended. */
export type TunnelEnd =
  /** Either side closed (a WebSocket close handshake, then TCP), or reset. */
  | 'closed'
  /** Nothing went either way for the idle limit. */
  | 'idle_timeout'
  /** The tunnel reached its longest allowed life. */
  | 'max_duration';

export interface TunnelLimits {
  /** Longest time without a byte in either direction; 0: none. */
  readonly idleTimeoutMs: number;
  /** Longest life of the tunnel; 0: none. */
  readonly maxDurationMs: number;
}

export interface TunnelResult {
  readonly end: TunnelEnd;
  /** Bytes from the client to the upstream, and back. */
  readonly bytesUp: number;
  readonly bytesDown: number;
}

/**
 * Joins two connections both ways (an upgraded WebSocket: the gateway has no business with its
 * frames), with backpressure each way (pipe), until either side closes or a limit is reached;
 * then both are destroyed. A half-close is passed on (pipe ends the other side's writable), so a
 * peer that shuts down its sending side still gets the rest of the data.
 */
export function tunnel(client: Duplex, upstream: Duplex, limits: TunnelLimits): Promise<TunnelResult> {
  return new Promise((resolve) => {
    let bytesUp = 0;
    let bytesDown = 0;
    let done = false;
    let idle: NodeJS.Timeout | null = null;
    const finish = (end: TunnelEnd): void => {
      if (done) return;
      done = true;
      if (idle !== null) clearTimeout(idle);
      if (lifetime !== null) clearTimeout(lifetime);
      client.destroy();
      upstream.destroy();
      resolve({ end, bytesUp, bytesDown });
    };
    const touch = (): void => {
      idle?.refresh();
    };
    if (limits.idleTimeoutMs > 0) idle = setTimeout(() => finish('idle_timeout'), limits.idleTimeoutMs);
    const lifetime = limits.maxDurationMs > 0 ? setTimeout(() => finish('max_duration'), limits.maxDurationMs) : null;
    client.on('data', (chunk: Buffer) => {
      bytesUp += chunk.length;
      touch();
    });
    upstream.on('data', (chunk: Buffer) => {
      bytesDown += chunk.length;
      touch();
    });
    for (const side of [client, upstream]) {
      side.once('close', () => finish('closed'));
      side.on('error', () => finish('closed'));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
}
