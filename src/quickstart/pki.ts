// The quickstart's certificates, made once in PREFIX/certs: the development PKI under the tutorial's
// names (rootCA.crt, server.crt for localhost, client.crt for `client-app`) plus a second client from
// the same CA, whose certificate shows that a token works only with the one it was bound to.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  certificateThumbprint,
  ensureDevelopmentPki,
  findExistingFile,
  issueCertificate,
  loadCertificateAuthority,
  writeOutputFiles,
  type DevelopmentPkiPaths,
} from '../certs/index.js';

/** Subject of the second client: trusted by the same CA, unknown to the IdP's `kong` client. */
export const otherClientSubject = 'CN=other-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US';

export interface QuickstartPki extends DevelopmentPkiPaths {
  otherClientCertPath: string;
  otherClientKeyPath: string;
  /** RFC 8705 `x5t#S256` of client.crt: what a token bound to it carries in `cnf`. */
  clientThumbprint: string;
}

/** Reuses or makes the certificates in `dir`. */
export async function ensureQuickstartPki(dir: string): Promise<QuickstartPki> {
  const pki = await ensureDevelopmentPki(dir);
  const other = { cert: 'other-client.crt', key: 'other-client.key' };
  const otherClientCertPath = join(dir, other.cert);
  const otherClientKeyPath = join(dir, other.key);
  const present = await Promise.all([other.cert, other.key].map(async (name) => (await findExistingFile(dir, [name])) !== undefined));
  if (!present.every(Boolean)) {
    const [certPem, keyPem] = await Promise.all([readFile(pki.caPath, 'utf8'), readFile(pki.caKeyPath, 'utf8')]);
    const ca = await loadCertificateAuthority({ certPem, keyPem });
    const issued = await issueCertificate({ ca, subject: otherClientSubject, usage: 'client', keyType: 'rsa-2048' });
    await writeOutputFiles(
      dir,
      [
        { name: other.cert, data: issued.certPem, secret: false },
        { name: other.key, data: issued.keyPem, secret: true },
      ],
      { force: true },
    );
  }
  const clientThumbprint = certificateThumbprint(await readFile(pki.clientCertPath, 'utf8'));
  return { ...pki, created: pki.created || !present.every(Boolean), otherClientCertPath, otherClientKeyPath, clientThumbprint };
}
