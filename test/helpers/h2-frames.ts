// Hostile HTTP/2 for attack tests: frames no maintained client sends (a reset right after each
// HEADERS, SETTINGS floods, a request without :authority). Well-behaved traffic in tests goes
// through node:http2 and curl; this only writes frames and reads back whether the server hung up.
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect, type Socket } from 'node:net';

export const frameType = { data: 0, headers: 1, rstStream: 3, settings: 4, ping: 6, goaway: 7, continuation: 9 } as const;
const endStream = 0x1;
const endHeaders = 0x4;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/**
 * An HPACK header block of a GET: `:method GET`, `:scheme`, `:path /` from the static table, then
 * each extra field as a literal without indexing (RFC 7541 §6.2.2), names and values under 127 bytes.
 */
export function getHeaderBlock(scheme: 'http' | 'https', fields: Record<string, string> = {}): Buffer {
  const parts = [Buffer.from([0x82, scheme === 'https' ? 0x87 : 0x86, 0x84])];
  for (const [name, value] of Object.entries(fields)) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    if (n.length > 126 || v.length > 126) throw new RangeError('literal too long for this encoder');
    parts.push(Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v);
  }
  return Buffer.concat(parts);
}

export function headersFrame(streamId: number, block: Buffer, end = true): Buffer {
  return frame(frameType.headers, endHeaders | (end ? endStream : 0), streamId, block);
}

export function rstStream(streamId: number, code = 8 /* CANCEL */): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(frameType.rstStream, 0, streamId, payload);
}

export interface RawSession {
  readonly socket: Socket;
  /** Resolves when the server closes the connection, with the GOAWAY error code it sent (null: none). */
  readonly closed: Promise<{ goaway: number | null }>;
  /** Every frame the server sent so far: type, flags, stream. */
  readonly received: Array<{ type: number; flags: number; streamId: number; payload: Buffer }>;
  write(bytes: Buffer): void;
}

/**
 * Opens a connection, sends the preface and an empty SETTINGS. TLS offers only h2 by ALPN.
 * `prefaceInPieces`: the preface goes out in two writes 50 ms apart (a server must not decide on
 * the first bytes alone).
 */
export async function openRawSession(port: number, tls: boolean, options: { prefaceInPieces?: boolean } = {}): Promise<RawSession> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = tls
      ? tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => resolve(s))
      : netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
  const received: RawSession['received'] = [];
  let goaway: number | null = null;
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const type = pending[3]!;
      const payload = pending.subarray(9, 9 + length);
      received.push({ type, flags: pending[4]!, streamId: pending.readUInt32BE(5) & 0x7fffffff, payload });
      if (type === frameType.goaway) goaway = payload.readUInt32BE(4);
      pending = pending.subarray(9 + length);
    }
  });
  socket.on('error', () => undefined);
  const closed = new Promise<{ goaway: number | null }>((resolve) => socket.once('close', () => resolve({ goaway })));
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  if (options.prefaceInPieces === true) {
    socket.write(preface.subarray(0, 7));
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write(preface.subarray(7));
  } else {
    socket.write(preface);
  }
  socket.write(frame(frameType.settings, 0, 0));
  return { socket, closed, received, write: (bytes) => void socket.write(bytes) };
}
