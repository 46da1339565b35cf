import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { certificateThumbprint, createClientCertificate, type ClientCertificate } from './client-certificate.js';

export { certificateThumbprint, type ClientCertificate };

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
  /** The address the connection arrived on (nginx's `server_addr`), IPv4-mapped IPv6 shown as IPv4. */
  readonly localAddress: string;
  /** The leaf client certificate presented during the handshake, or null. */
  readonly peerCertificate: X509Certificate | null;
  /** RFC 8705 `x5t#S256` of the leaf: base64url(SHA-256(DER)), no padding; null without a certificate. */
  readonly thumbprint: string | null;
  /** The presented certificate as a `ClientCertificate`, or null. */
  readonly clientCertificate: ClientCertificate | null;
  /** Whether the TLS session was resumed (the certificate then comes from the session). */
  readonly resumed: boolean;
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
    localAddress: normaliseAddress(socket.localAddress),
    peerCertificate: null,
    thumbprint: null,
    clientCertificate: null,
    resumed: false,
  });
}

class TlsConnectionInfo implements ConnectionInfo {
  readonly tls = true;
  readonly sni: string | null;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly localAddress: string;
  readonly resumed: boolean;
  #socket: TLSSocket;
  #clientCertificate: ClientCertificate | null | undefined;

  constructor(socket: TLSSocket) {
    this.#socket = socket;
    const servername = (socket as TLSSocket & { servername?: string | false }).servername;
    this.sni = typeof servername === 'string' && servername !== '' ? servername.toLowerCase() : null;
    this.remoteAddress = normaliseAddress(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    this.localPort = socket.localPort ?? 0;
    this.localAddress = normaliseAddress(socket.localAddress);
    this.resumed = socket.isSessionReused();
  }

  get clientCertificate(): ClientCertificate | null {
    if (this.#clientCertificate === undefined) {
      // getPeerX509Certificate costs ~2 µs where getPeerCertificate() builds a JS object (~35 µs).
      const certificate = this.#socket.getPeerX509Certificate();
      this.#clientCertificate = certificate === undefined ? null : createClientCertificate(certificate, sentChain(certificate), 'tls');
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

/**
 * The intermediates the client sent, nearest first, as Node links them from the peer chain
 * (`SSL_get_peer_cert_chain`). Stops at a self-issued certificate so a looping chain cannot spin.
 */
function sentChain(leaf: X509Certificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let current = leaf.issuerCertificate;
  while (current !== undefined && chain.length < 10) {
    if (current.raw.equals(leaf.raw)) break;
    chain.push(current);
    if (current.checkIssued(current)) break;
    current = current.issuerCertificate;
  }
  return chain;
}

function normaliseAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
