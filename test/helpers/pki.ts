// A test PKI made at test time with src/certs, once per process, written as PEM files to a temp dir.
// RSA-2048 where the tutorial has it (root CA, server, tutorial client); EC P-256 elsewhere, because
// RSA key generation is what makes this slow.
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createSelfSignedCertificate,
  issueCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../src/certs/index.js';

/** The tutorial's client subject (RFC 4514; encoded C first, as OpenSSL does). */
export const tutorialClientSubject = 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US';

/** A certificate authority and where its files are. */
export interface TestCa extends CertificateAuthority {
  certPath: string;
  keyPath: string;
}

/** A leaf and where its files are; `chainPath` holds the leaf followed by any intermediates. */
export interface TestCredential extends IssuedCertificate {
  certPath: string;
  keyPath: string;
  chainPath: string;
}

export interface TestPki {
  /** The directory holding every PEM file below. */
  dir: string;
  /** Root CA `CN=Portcullis Test Root CA`, RSA-2048: the CA a gateway under test trusts. */
  ca: TestCa;
  /** `CN=Portcullis Test Intermediate CA`, EC, signed by `ca`. */
  intermediateCa: TestCa;
  /** An unrelated root, `CN=Untrusted Test CA`, EC. */
  otherCa: TestCa;
  /** Server leaf from `ca` for localhost, 127.0.0.1 and ::1, RSA-2048, serverAuth. */
  serverCert: TestCredential;
  /** The tutorial client (`tutorialClientSubject`) from `ca`, RSA-2048, clientAuth. */
  client: TestCredential;
  /** `CN=other-app` from `ca`: trusted, but a different identity (and thumbprint) than `client`. */
  otherClient: TestCredential;
  /** The tutorial subject again, but issued by `otherCa`: same CN, wrong CA — must be refused. */
  otherCaClient: TestCredential;
  /** `CN=expired-app` from `ca`, valid from ten days ago until yesterday. */
  expiredClient: TestCredential;
  /** `CN=intermediate-app` from `intermediateCa`; present `chainPem` (leaf + intermediate). */
  intermediateClient: TestCredential;
  /** `CN=self-signed-app`, self-signed, clientAuth. */
  selfSignedClient: TestCredential;
  /** `CN=no-eku-app` from `ca` without extendedKeyUsage (OpenSSL accepts it for either role). */
  noEkuClient: TestCredential;
}

interface Material {
  cas: Record<'ca' | 'intermediateCa' | 'otherCa', CertificateAuthority>;
  leaves: Record<TestCredentialName, IssuedCertificate>;
}

type TestCredentialName =
  | 'serverCert'
  | 'client'
  | 'otherClient'
  | 'otherCaClient'
  | 'expiredClient'
  | 'intermediateClient'
  | 'selfSignedClient'
  | 'noEkuClient';

const day = 86_400_000;
let material: Promise<Material> | undefined;
const byDir = new Map<string, Promise<TestPki>>();
let defaultDir: string | undefined;

async function makeMaterial(): Promise<Material> {
  const ec = 'ec-p256' as const;
  const [ca, otherCa] = await Promise.all([
    createCertificateAuthority({ subject: 'CN=Portcullis Test Root CA', keyType: 'rsa-2048' }),
    createCertificateAuthority({ subject: 'CN=Untrusted Test CA', keyType: ec }),
  ]);
  const intermediateCa = await createCertificateAuthority({ subject: 'CN=Portcullis Test Intermediate CA', issuer: ca, keyType: ec });
  const [serverCert, client, otherClient, otherCaClient, expiredClient, intermediateClient, selfSignedClient, noEkuClient] =
    await Promise.all([
      issueCertificate({ ca, subject: 'CN=localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] }),
      issueCertificate({ ca, subject: tutorialClientSubject, usage: 'client', keyType: 'rsa-2048' }),
      issueCertificate({ ca, subject: 'CN=other-app', usage: 'client', keyType: ec }),
      issueCertificate({ ca: otherCa, subject: tutorialClientSubject, usage: 'client', keyType: ec }),
      issueCertificate({
        ca,
        subject: 'CN=expired-app',
        usage: 'client',
        keyType: ec,
        notBefore: new Date(Date.now() - 10 * day),
        notAfter: new Date(Date.now() - day),
      }),
      issueCertificate({ ca: intermediateCa, subject: 'CN=intermediate-app', usage: 'client', keyType: ec }),
      createSelfSignedCertificate({ subject: 'CN=self-signed-app', usage: 'client', keyType: ec }),
      issueCertificate({ ca, subject: 'CN=no-eku-app', usage: 'client', keyType: ec, omitExtendedKeyUsage: true }),
    ]);
  return {
    cas: { ca, intermediateCa, otherCa },
    leaves: { serverCert, client, otherClient, otherCaClient, expiredClient, intermediateClient, selfSignedClient, noEkuClient },
  };
}

async function writePki(dir: string, made: Material): Promise<TestPki> {
  await mkdir(dir, { recursive: true });
  const fileName = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const writeCa = async (name: keyof Material['cas']): Promise<TestCa> => {
    const ca = made.cas[name];
    const certPath = join(dir, `${fileName(name)}.pem`);
    const keyPath = join(dir, `${fileName(name)}-key.pem`);
    await writeFile(certPath, ca.certPem);
    await writeFile(keyPath, ca.keyPem, { mode: 0o600 });
    return { ...ca, certPath, keyPath };
  };
  const writeLeaf = async (name: TestCredentialName): Promise<TestCredential> => {
    const leaf = made.leaves[name];
    const certPath = join(dir, `${fileName(name)}.pem`);
    const keyPath = join(dir, `${fileName(name)}-key.pem`);
    const chainPath = join(dir, `${fileName(name)}-chain.pem`);
    await writeFile(certPath, leaf.certPem);
    await writeFile(keyPath, leaf.keyPem, { mode: 0o600 });
    await writeFile(chainPath, leaf.chainPem);
    return { ...leaf, certPath, keyPath, chainPath };
  };
  const [ca, intermediateCa, otherCa] = await Promise.all([writeCa('ca'), writeCa('intermediateCa'), writeCa('otherCa')]);
  const names = Object.keys(made.leaves) as TestCredentialName[];
  const leaves = await Promise.all(names.map(writeLeaf));
  const entries = Object.fromEntries(names.map((name, i) => [name, leaves[i]])) as Record<TestCredentialName, TestCredential>;
  return Object.freeze({ dir, ca, intermediateCa, otherCa, ...entries });
}

/**
 * The test PKI. Keys and certificates are made once per process; the PEM files are written once
 * per directory: `dir`, or a temp dir under os.tmpdir() that is removed when the process exits.
 * File names: `ca.pem`, `ca-key.pem`, `client.pem`, `client-key.pem`, `client-chain.pem`, … (the
 * property names in kebab-case).
 */
export async function makeTestPki(dir?: string): Promise<TestPki> {
  const target = dir ?? (defaultDir ??= makeDefaultDir());
  let pki = byDir.get(target);
  if (pki === undefined) {
    material ??= makeMaterial();
    const made = material;
    pki = made.then((m) => writePki(target, m));
    byDir.set(target, pki);
    // A failed attempt is not cached, so the next caller gets the real error again rather than a stale one.
    pki.catch(() => {
      byDir.delete(target);
      if (material === made) material = undefined;
    });
  }
  return pki;
}

function makeDefaultDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pki-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
