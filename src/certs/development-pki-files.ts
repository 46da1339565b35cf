// The development PKI on disk, under the names every part of Portcullis uses for it: the tutorial's
// own (`rootCA.crt`, `client.crt`, `client.key`), so its curl commands work from that directory, and
// `server.*` for the server (the tutorial's `keycloak.*`: the same certificate serves the IdP and the
// gateway). `portcullis certs init`, `portcullis idp` and `portcullis quickstart` all write it here.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultServerHostnames, createDevelopmentPki, type DevelopmentPki } from './development-pki.js';
import { findExistingFile, writeOutputFiles, type OutputFile } from './write-files.js';

/** File names of the development PKI. */
export const developmentPkiFileNames = {
  caCert: 'rootCA.crt',
  caKey: 'rootCA.key',
  serverCert: 'server.crt',
  serverKey: 'server.key',
  clientCert: 'client.crt',
  clientKey: 'client.key',
} as const;

/** The PEM files of a development PKI, keys marked secret (0600). */
export function developmentPkiPemFiles(pki: DevelopmentPki): OutputFile[] {
  const names = developmentPkiFileNames;
  return [
    { name: names.caCert, data: pki.ca.certPem, secret: false },
    { name: names.caKey, data: pki.ca.keyPem, secret: true },
    { name: names.serverCert, data: pki.server.chainPem, secret: false },
    { name: names.serverKey, data: pki.server.keyPem, secret: true },
    { name: names.clientCert, data: pki.client.certPem, secret: false },
    { name: names.clientKey, data: pki.client.keyPem, secret: true },
  ];
}

/** Where the files of a development PKI are. */
export interface DevelopmentPkiPaths {
  dir: string;
  caPath: string;
  caKeyPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** Whether this call made the files (false: they were there already). */
  created: boolean;
}

/**
 * Reuses the development PKI in `dir`, or makes it there: a root CA, a server certificate for
 * `hostnames` (default localhost, 127.0.0.1, ::1) and the tutorial's client. A partial set of files
 * is an error rather than silently replaced: a new CA would orphan the certificates it did not sign.
 */
export async function ensureDevelopmentPki(dir: string, options: { hostnames?: readonly string[] } = {}): Promise<DevelopmentPkiPaths> {
  const names = developmentPkiFileNames;
  const paths = {
    dir,
    caPath: join(dir, names.caCert),
    caKeyPath: join(dir, names.caKey),
    serverCertPath: join(dir, names.serverCert),
    serverKeyPath: join(dir, names.serverKey),
    clientCertPath: join(dir, names.clientCert),
    clientKeyPath: join(dir, names.clientKey),
  };
  const all = Object.values(names);
  const missing = await Promise.all(all.map(async (name) => (await findExistingFile(dir, [name])) === undefined));
  if (missing.every((m) => !m)) return { ...paths, created: false };
  if (missing.some((m) => !m)) {
    throw new Error(`${dir} holds only some of ${all.join(', ')}: remove them to make a new set (or bring your own certificates)`);
  }
  const pki = await createDevelopmentPki({ hostnames: options.hostnames ?? defaultServerHostnames });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeOutputFiles(dir, developmentPkiPemFiles(pki), { force: false });
  return { ...paths, created: true };
}
