// RFC 8705 §2.1.2 `tls_client_auth_subject_dn`: an RFC 4514 string compared with the certificate's
// subject. Compared as names, not as strings: RDN by RDN, in RFC 4514 order (most specific first,
// i.e. the reverse of the DER sequence), attribute types by their upper-case short names (CN, OU,
// O, L, ST, C, … — what @peculiar/x509 parses), values with the caseIgnoreMatch rules of RFC 4518
// in their simple form (case folded, outer spaces removed, inner runs of spaces collapsed).
// So `CN=client-app, OU=Dev, …` matches `CN=client-app,OU=Dev,…`.
import 'reflect-metadata';
import type { X509Certificate as NodeX509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** One RDN: its attributes as `TYPE=value` strings, normalised and sorted. */
type Rdn = string[];

function normaliseRdns(json: ReturnType<x509.Name['toJSON']>): Rdn[] {
  return json.map((rdn) =>
    Object.entries(rdn)
      .flatMap(([type, values]) => values.map((v) => `${type.toUpperCase()}=${v.trim().replace(/\s+/g, ' ').toLowerCase()}`))
      .sort(),
  );
}

/** Parses an RFC 4514 DN into normalised RDNs, most specific first. Throws on an empty or malformed DN. */
export function parseDistinguishedName(dn: string): Rdn[] {
  if (typeof dn !== 'string' || !/^\s*[A-Za-z0-9.]+\s*=/.test(dn)) throw new TypeError(`'${String(dn)}' is not a distinguished name like 'CN=example'`);
  let name: x509.Name;
  try {
    name = new x509.Name(dn);
  } catch (error) {
    throw new TypeError(`'${dn}' is not a valid distinguished name: ${(error as Error).message}`);
  }
  const rdns = normaliseRdns(name.toJSON());
  if (rdns.length === 0) throw new TypeError(`'${dn}' has no attributes`);
  return rdns;
}

/** The certificate's subject as normalised RDNs, most specific first (RFC 4514 order). */
export function certificateSubjectRdns(cert: NodeX509Certificate): Rdn[] {
  const parsed = new x509.X509Certificate(cert.raw);
  return normaliseRdns(parsed.subjectName.toJSON()).reverse();
}

/** The certificate's subject in RFC 4514 form, for messages. */
export function certificateSubjectString(cert: NodeX509Certificate): string {
  const parsed = new x509.X509Certificate(cert.raw);
  return new x509.Name(parsed.subjectName.toJSON().reverse()).toString();
}

/** Whether the certificate's subject is the distinguished name `expected`. */
export function subjectDnMatches(cert: NodeX509Certificate, expected: string): boolean {
  let want: Rdn[];
  try {
    want = parseDistinguishedName(expected);
  } catch {
    return false;
  }
  const have = certificateSubjectRdns(cert);
  return have.length === want.length && have.every((rdn, i) => {
    const other = want[i];
    return other !== undefined && rdn.length === other.length && rdn.every((attr, j) => attr === other[j]);
  });
}
