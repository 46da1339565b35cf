// The PKI of the tutorial, made without openssl or keytool: a root CA, a server certificate for the
// host names, and the tutorial's client (`client-app`), whose subject Keycloak matches exactly.
import { isIP } from 'node:net';
import { createCertificateAuthority } from './authority.js';
import { issueCertificate } from './issue.js';
import { checkAltNames, escapeRdnValue } from './params.js';
import type { CertificateAuthority, IssuedCertificate } from './types.js';

/** The tutorial's client subject (openssl `-subj /C=US/…/CN=client-app`, written RFC 4514 style). */
export const tutorialClientSubject = 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US';

/** Subject of the root CA `portcullis certs init` makes. */
export const developmentCaSubject = 'CN=Portcullis Development Root CA, O=Portcullis';

/** Names the server certificate covers when none are given. */
export const defaultServerHostnames: readonly string[] = ['localhost', '127.0.0.1', '::1'];

export interface CreateDevelopmentPkiOptions {
  /** DNS names and IP literals for the server certificate; the first is its CN. Default `defaultServerHostnames`. */
  hostnames?: readonly string[];
  /** Default `developmentCaSubject`. */
  caSubject?: string;
  /** Default `tutorialClientSubject`. */
  clientSubject?: string;
}

export interface DevelopmentPki {
  /** RSA-4096, ten years, like the tutorial's `openssl genrsa 4096` / `-days 3650`. */
  ca: CertificateAuthority;
  /** RSA-2048, one year, serverAuth, SANs from the host names. */
  server: IssuedCertificate;
  /** RSA-2048, one year, clientAuth. */
  client: IssuedCertificate;
}

/** Splits host names into DNS and IP SANs (brackets around IPv6 allowed) and checks them. */
export function splitHostnames(hostnames: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  if (hostnames.length === 0) throw new TypeError('hostnames must not be empty');
  const plain = hostnames.map((h) => h.trim().replace(/^\[(.*)\]$/, '$1'));
  const dnsNames = plain.filter((h) => isIP(h) === 0);
  const ipAddresses = plain.filter((h) => isIP(h) !== 0);
  const checked = checkAltNames(dnsNames, ipAddresses);
  return { dnsNames: checked.dns, ipAddresses: checked.ip };
}

/** Makes the CA, then the server and client certificates it signs. */
export async function createDevelopmentPki(opts: CreateDevelopmentPkiOptions = {}): Promise<DevelopmentPki> {
  const hostnames = opts.hostnames ?? defaultServerHostnames;
  const { dnsNames, ipAddresses } = splitHostnames(hostnames);
  const first = (hostnames[0] ?? '').trim().replace(/^\[(.*)\]$/, '$1');
  const ca = await createCertificateAuthority({ subject: opts.caSubject ?? developmentCaSubject, keyType: 'rsa-4096', validDays: 3650 });
  const [server, client] = await Promise.all([
    issueCertificate({ ca, subject: `CN=${escapeRdnValue(first)}, O=Portcullis`, usage: 'server', dnsNames, ipAddresses, keyType: 'rsa-2048' }),
    issueCertificate({ ca, subject: opts.clientSubject ?? tutorialClientSubject, usage: 'client', keyType: 'rsa-2048' }),
  ]);
  return { ca, server, client };
}
