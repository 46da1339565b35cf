// Option checking and the small values every certificate needs: subject, serial, validity.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import * as asn1js from 'asn1js';
import { x509 } from './x509.js';

const dayMs = 24 * 60 * 60 * 1000;
/** How far notBefore is back-dated by default, so peers with a slow clock accept a fresh certificate. */
export const clockSkewMs = 5 * 60 * 1000;

/**
 * Parses an RFC 4514 string (`CN=client-app, OU=Dev, …, C=US`). RFC 4514 writes the most specific
 * RDN first, so the DER sequence is the reverse: C, ST, L, O, OU, CN — the same bytes OpenSSL makes
 * from `-subj /C=US/…/CN=client-app`, which prints back as this string with `-nameopt RFC2253`.
 * @peculiar/x509 alone would encode in written order.
 */
export function parseSubject(subject: unknown, option = 'subject'): x509.Name {
  if (typeof subject !== 'string' || !/^\s*[A-Za-z0-9.]+=/.test(subject)) {
    throw new TypeError(`${option} must be a distinguished name like 'CN=example', got ${String(subject)}`);
  }
  let written: x509.Name;
  try {
    written = new x509.Name(subject);
  } catch (error) {
    throw new TypeError(`${option} is not a valid distinguished name: ${(error as Error).message}`);
  }
  if (written.toJSON().length === 0) throw new TypeError(`${option} has no attributes: ${subject}`);
  return reverseRdns(written);
}

/**
 * The name with its RDNs in reverse order. Done on the DER, not through @peculiar/x509's JSON form,
 * which would read a value starting with '#' as hex and drop backslashes.
 */
export function reverseRdns(name: x509.Name): x509.Name {
  const parsed = asn1js.fromBER(name.toArrayBuffer());
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) throw new TypeError('not a DER-encoded Name');
  const rdns = [...parsed.result.valueBlock.value].reverse();
  return new x509.Name(new asn1js.Sequence({ value: rdns }).toBER(false));
}

/** An attribute value made safe to put in an RFC 4514 string (`CN=${escapeRdnValue(name)}`). */
export function escapeRdnValue(value: string): string {
  return value.replace(/^([ #])|([,+"\\<>;=])|( )$/g, (_m, lead?: string, mid?: string, trail?: string) => `\\${lead ?? mid ?? trail ?? ''}`);
}

/** A random positive 128-bit serial as hex, its top octet in 0x40–0x7f so DER needs no padding. */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString('hex');
}

/** Checks a caller-given serial: hex, non-zero, at most 20 octets (RFC 5280 §4.1.2.2). */
export function checkSerialNumber(serial: unknown): string {
  if (typeof serial !== 'string' || !/^(?:[0-9a-fA-F]{2}){1,20}$/.test(serial) || /^0+$/.test(serial)) {
    throw new TypeError(`serialNumber must be 1 to 20 octets of non-zero hex, got ${String(serial)}`);
  }
  return serial.toLowerCase();
}

/** notBefore/notAfter from the options; notBefore defaults to a few minutes ago. */
export function validityOf(
  opts: { notBefore?: Date; notAfter?: Date; validDays?: number },
  defaultDays: number,
): { notBefore: Date; notAfter: Date } {
  for (const key of ['notBefore', 'notAfter'] as const) {
    const value = opts[key];
    if (value !== undefined && !(value instanceof Date && Number.isFinite(value.getTime()))) {
      throw new TypeError(`${key} must be a valid Date`);
    }
  }
  const validDays = opts.validDays ?? defaultDays;
  if (typeof validDays !== 'number' || !(validDays > 0) || !Number.isFinite(validDays)) {
    throw new TypeError(`validDays must be a positive number, got ${String(validDays)}`);
  }
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - clockSkewMs);
  const notAfter = opts.notAfter ?? new Date(Math.max(now, notBefore.getTime()) + validDays * dayMs);
  if (notAfter.getTime() <= notBefore.getTime()) throw new TypeError('notAfter must be later than notBefore');
  return { notBefore, notAfter };
}

/** Checks the SAN inputs: DNS names (wildcards allowed) and IPv4/IPv6 literals. */
export function checkAltNames(dnsNames: unknown, ipAddresses: unknown): { dns: string[]; ip: string[] } {
  const dns = checkStringList(dnsNames, 'dnsNames');
  const ip = checkStringList(ipAddresses, 'ipAddresses');
  for (const name of dns) {
    if (!/^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(name)) {
      throw new TypeError(`dnsNames: not a DNS name: ${name}`);
    }
  }
  for (const address of ip) {
    if (isIP(address) === 0 || address.includes('%')) {
      throw new TypeError(`ipAddresses: not an IPv4 or IPv6 address: ${address}`);
    }
    // @peculiar/x509 mis-encodes dotted IPv6 (::ffff:1.2.3.4); refuse rather than write a wrong SAN.
    if (isIP(address) === 6 && address.includes('.')) {
      throw new TypeError(`ipAddresses: write IPv6 in hex only, or give the IPv4 address: ${address}`);
    }
  }
  return { dns, ip };
}

function checkStringList(value: unknown, option: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new TypeError(`${option} must be an array of non-empty strings`);
  }
  return value as string[];
}
