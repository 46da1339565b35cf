/** The certificates every program in the benchmark uses, made by Portcullis's own certificate tool. */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ensureDevelopmentPki } from '../../src/certs/development-pki-files.js';
import { certificateThumbprint } from '../../src/connection/client-certificate.js';
import type { TlsFiles } from '../peers/nginx.js';

export interface BenchPki {
  /** The client certificate wrk and the idle-connection client present. */
  readonly clientCert: { readonly cert: string; readonly key: string };
  /** The server certificate and the CA that signed the client's. */
  readonly tls: TlsFiles;
  /** RFC 8705 thumbprint of the client certificate: what every token's `cnf` names. */
  readonly thumbprint: string;
}

export async function prepareBenchPki(dir: string): Promise<BenchPki> {
  const pki = await ensureDevelopmentPki(dir);
  return {
    clientCert: { cert: pki.clientCertPath, key: pki.clientKeyPath },
    tls: { serverCert: pki.serverCertPath, serverKey: pki.serverKeyPath, caCert: pki.caPath },
    thumbprint: certificateThumbprint(new X509Certificate(await readFile(pki.clientCertPath)).raw),
  };
}
