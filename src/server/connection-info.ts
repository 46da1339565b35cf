import { createHash, type X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

/**
 * A client certificate as plugins see it, whatever its source: the TLS handshake of this
 * connection, or a header set by a trusted TLS-terminating proxy (which replaces it per request).
 */
export interface ClientCertificate {
  readonly certificate: X509Certificate;
  /** RFC 8705 `x5t#S256`: base64url(SHA-256(DER of the leaf)), no padding. */
  readonly thumbprint: string;
  readonly source: 'tls' | 'header';
}

/**
 * What the gateway knows about one client connection, computed once and shared by every request on
 * it. Attached to the socket under a symbol; the certificate facts are computed lazily and memoised,
 * because most requests never ask for them.
 */
export interface ConnectionInfo {
  readonly tls: boolean;
  /** SNI the client sent, lower-cased, or null. */
  readonly sni: string | null;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  /** The leaf client certificate presented during the handshake, or null. */
  readonly peerCertificate: X509Certificate | null;
  /** RFC 8705 `x5t#S256` of the leaf: base64url(SHA-256(DER)), no padding; null without a certificate. */
  readonly thumbprint: string | null;
  /** The presented certificate as a `ClientCertificate`, or null. */
  readonly clientCertificate: ClientCertificate | null;
}

const connectionInfoKey = Symbol('portcullis.connectionInfo');

type SocketWithInfo = Socket & { [connectionInfoKey]?: ConnectionInfo };

/** The connection's info, built on first use and then read from the socket. */
export function connectionInfoOf(socket: Socket): ConnectionInfo {
  const holder = socket as SocketWithInfo;
  let info = holder[connectionInfoKey];
  if (info === undefined) {
    info = socket instanceof TLSSocket ? new TlsConnectionInfo(socket) : plainConnectionInfo(socket);
    holder[connectionInfoKey] = info;
  }
  return info;
}

function plainConnectionInfo(socket: Socket): ConnectionInfo {
  return Object.freeze({
    tls: false,
    sni: null,
    remoteAddress: normaliseAddress(socket.remoteAddress),
    remotePort: socket.remotePort ?? 0,
    localPort: socket.localPort ?? 0,
    peerCertificate: null,
    thumbprint: null,
    clientCertificate: null,
  });
}

class TlsConnectionInfo implements ConnectionInfo {
  readonly tls = true;
  readonly sni: string | null;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  #socket: TLSSocket;
  #clientCertificate: ClientCertificate | null | undefined;

  constructor(socket: TLSSocket) {
    this.#socket = socket;
    const servername = (socket as TLSSocket & { servername?: string | false }).servername;
    this.sni = typeof servername === 'string' && servername !== '' ? servername.toLowerCase() : null;
    this.remoteAddress = normaliseAddress(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    this.localPort = socket.localPort ?? 0;
  }

  get clientCertificate(): ClientCertificate | null {
    if (this.#clientCertificate === undefined) {
      // getPeerX509Certificate costs ~2 µs where getPeerCertificate() builds a JS object (~35 µs).
      const certificate = this.#socket.getPeerX509Certificate();
      this.#clientCertificate = certificate === undefined ? null : new TlsClientCertificate(certificate);
    }
    return this.#clientCertificate;
  }

  get peerCertificate(): X509Certificate | null {
    return this.clientCertificate?.certificate ?? null;
  }

  get thumbprint(): string | null {
    return this.clientCertificate?.thumbprint ?? null;
  }
}

/** The handshake's certificate; the thumbprint is hashed on first use and then remembered. */
class TlsClientCertificate implements ClientCertificate {
  readonly source = 'tls' as const;
  readonly certificate: X509Certificate;
  #thumbprint: string | undefined;

  constructor(certificate: X509Certificate) {
    this.certificate = certificate;
  }

  get thumbprint(): string {
    this.#thumbprint ??= certificateThumbprint(this.certificate.raw);
    return this.#thumbprint;
  }
}

/** RFC 8705 §3.1: base64url(SHA-256(DER)), without padding. */
export function certificateThumbprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}

function normaliseAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
