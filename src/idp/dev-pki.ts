// Certificates for running the IdP without bringing any: made once in DIR/pki by src/certs'
// createDevelopmentPki, with the file names `portcullis certs init` uses (rootCA.crt, server.crt,
// client.crt, …), so the tutorial's curl (`--cert client.crt --key client.key --cacert rootCA.crt`)
// works from that directory unchanged.
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDevelopmentPki, defaultServerHostnames } from '../certs/index.js';

export interface DevPki {
  dir: string;
  caPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** Whether this call made the files (false: they were there already). */
  created: boolean;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Reuses the development PKI in `dir`, or makes it: a root CA, a server certificate for `hostname`
 * (when given and not a wildcard address) plus localhost, 127.0.0.1 and ::1, and the tutorial client.
 * A partial set of files is an error rather than silently replaced: a new CA would orphan the rest.
 */
export async function ensureDevPki(dir: string, hostname?: string): Promise<DevPki> {
  const files = {
    caPath: join(dir, 'rootCA.crt'),
    caKeyPath: join(dir, 'rootCA.key'),
    serverCertPath: join(dir, 'server.crt'),
    serverKeyPath: join(dir, 'server.key'),
    clientCertPath: join(dir, 'client.crt'),
    clientKeyPath: join(dir, 'client.key'),
  };
  const { caKeyPath, ...result } = files;
  const present = await Promise.all(Object.values(files).map(exists));
  if (present.every(Boolean)) return { dir, ...result, created: false };
  if (present.some(Boolean)) {
    throw new Error(`${dir} holds only some of rootCA.crt/.key, server.crt/.key, client.crt/.key: remove it, or pass --cert, --key and --ca`);
  }

  const extra = hostname === undefined || ['', '0.0.0.0', '::', 'localhost'].includes(hostname) ? [] : [hostname];
  const pki = await createDevelopmentPki({ hostnames: [...extra, ...defaultServerHostnames] });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(files.caPath, pki.ca.certPem);
  await writeFile(caKeyPath, pki.ca.keyPem, { mode: 0o600 });
  await writeFile(files.serverCertPath, pki.server.chainPem);
  await writeFile(files.serverKeyPath, pki.server.keyPem, { mode: 0o600 });
  await writeFile(files.clientCertPath, pki.client.certPem);
  await writeFile(files.clientKeyPath, pki.client.keyPem, { mode: 0o600 });
  return { dir, ...result, created: true };
}
