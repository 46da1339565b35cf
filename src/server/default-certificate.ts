import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSelfSignedCertificate } from '../certs/index.js';
import type { DefaultCertificate } from '../runtime/tls-contexts.js';

/**
 * The certificate served when no `certificates` entity matches: `--ssl-cert`/`--ssl-cert-key` if
 * given, else a self-signed one made once and kept in the prefix (so clients that pinned it keep
 * working across restarts).
 */
export async function loadDefaultCertificate(options: {
  sslCert: string | null;
  sslCertKey: string | null;
  prefix: string;
}): Promise<DefaultCertificate> {
  if (options.sslCert !== null || options.sslCertKey !== null) {
    if (options.sslCert === null || options.sslCertKey === null) {
      throw new Error('--ssl-cert and --ssl-cert-key must be given together');
    }
    return { certPem: await readFile(options.sslCert, 'utf8'), keyPem: await readFile(options.sslCertKey, 'utf8') };
  }
  const dir = join(options.prefix, 'ssl');
  const certPath = join(dir, 'default.crt');
  const keyPath = join(dir, 'default.key');
  try {
    return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const made = await createSelfSignedCertificate({
    subject: 'CN=localhost, O=Portcullis self-signed',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    usage: 'server',
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, made.keyPem, { mode: 0o600 });
  await writeFile(certPath, made.certPem, { mode: 0o644 });
  return { certPem: made.certPem, keyPem: made.keyPem };
}
