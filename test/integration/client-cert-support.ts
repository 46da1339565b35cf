// Helpers for the client-certificate integration tests: a raw HTTP/1.1 exchange over a real TLS
// connection (so a test controls the SNI, the client certificate and the session), and decK snippets.
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import type { TestCredential, TestPki } from '../helpers/pki.js';

export interface TlsExchange {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The session to resume with (TLS 1.3 tickets arrive after the handshake). */
  session: Buffer | undefined;
  reused: boolean;
  protocol: string | null;
}

export interface TlsRequestOptions {
  port: number;
  servername?: string;
  credential?: TestCredential;
  /** Send the leaf followed by its intermediates. */
  sendChain?: boolean;
  session?: Buffer;
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  path?: string;
  headers?: Record<string, string>;
}

/** One GET over a fresh TLS connection; resolves once the server closed it. */
export function tlsRequest(options: TlsRequestOptions): Promise<TlsExchange> {
  const credential = options.credential;
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    let raw = '';
    let reused = false;
    let protocol: string | null = null;
    const socket: TLSSocket = connect({
      host: '127.0.0.1',
      port: options.port,
      servername: options.servername,
      rejectUnauthorized: false,
      cert: credential === undefined ? undefined : options.sendChain === true ? readFileSync(credential.chainPath) : credential.certPem,
      key: credential?.keyPem,
      session: options.session,
      maxVersion: options.maxVersion,
    });
    socket.on('session', (s: Buffer) => (session = s));
    socket.once('secureConnect', () => {
      // Read now: after close the handle is gone and these report null.
      reused = socket.isSessionReused();
      protocol = socket.getProtocol();
      const extra = Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`GET ${options.path ?? '/anything'} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}\r\n`);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (raw += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const headEnd = raw.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = raw.slice(0, headEnd).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = raw.slice(headEnd + 4);
      if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body, session, reused, protocol });
    });
  });
}

function unchunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, nl), 16);
    if (!(size > 0)) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}

/** An upstream header as the echo server reports it (`/anything` answers httpbin-style JSON). */
export function echoed(exchange: TlsExchange, name: string): string | undefined {
  const headers = (JSON.parse(exchange.body) as { headers: Record<string, string> }).headers;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

/** Indents PEM text for a YAML block scalar. */
export function indent(pem: string, spaces: number): string {
  return pem.trim().split('\n').map((line) => ' '.repeat(spaces) + line).join('\n');
}

/** Fixed ids for the test CAs, so plugins can refer to them. */
export const caIds = {
  root: '0d769de8-7cc0-4541-989b-f9c23e20054c',
  intermediate: '322dce96-d434-4e0d-9038-311b3520f0a3',
  other: '5b4bdb2f-7b8e-4f61-9a3c-0b8e0b1b2f11',
} as const;

/** The `ca_certificates` section for the test PKI's root, intermediate and unrelated CA. */
export function caSection(pki: TestPki): string {
  const entry = (id: string, pem: string): string => `  - id: ${id}\n    cert: |\n${indent(pem, 6)}\n`;
  return `ca_certificates:\n${entry(caIds.root, pki.ca.certPem)}${entry(caIds.intermediate, pki.intermediateCa.certPem)}${entry(caIds.other, pki.otherCa.certPem)}`;
}
