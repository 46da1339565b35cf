/**
 * Target addresses and upstream names as Kong reads them (`kong/tools/ip.lua`: `hostname_type`,
 * `normalize_ipv4`, `normalize_ipv6`, `check_hostname`, `normalize_ip`, `format_host`), so that a
 * decK file Kong accepts is accepted here and a target is stored in the form Kong stores it
 * (`kong/db/dao/targets.lua`: `format_target`).
 *
 * Kong's rules are looser and stricter than the RFCs in places; they are kept as they are, because
 * what matters here is agreeing with Kong on the same input:
 * - the kind is decided by exclusion before validation: two or more colons make it IPv6, only digits
 *   and dots (after removing a colon) make it IPv4, anything else is a name;
 * - IPv4 octets may have leading zeros (`001.002.003.004` is `1.2.3.4`);
 * - IPv6 is hex groups only (no embedded IPv4, no zone), written fully expanded in lower case; a
 *   single leading or trailing colon counts as a zero group (`:1:2:3:4:5:6:7` is accepted);
 * - a name is ASCII letters, digits, `-`, `.`, `_`; no label may end with `-` and only the last
 *   label may be empty (`example.` is fine, `.example` and `a..b` are not); its case is kept.
 * One deliberate difference: Kong accepts port 0 (it only refuses ports above 65535), which can
 * never be connected to; here a port is 1–65535.
 */

export type AddressKind = 'ipv4' | 'ipv6' | 'name';

export interface HostAddress {
  /** IPv4 without leading zeros, IPv6 fully expanded without brackets, a name as written. */
  readonly host: string;
  readonly port: number | null;
  readonly kind: AddressKind;
}

/** The port of a target written without one (`DEFAULT_PORT` in `kong/db/dao/targets.lua`). */
export const DEFAULT_TARGET_PORT = 8000;

/** Kong's `hostname_type`: the kind by exclusion; the text may still be invalid for that kind. */
function kindOf(text: string): AddressKind {
  let colons = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0x3a) colons++;
  if (colons > 1) return 'ipv6';
  return /^[\d.]+$/.test(colons === 0 ? text : text.replace(':', '')) ? 'ipv4' : 'name';
}

/** undefined when the digits are not a usable port (any number of digits, leading zeros allowed). */
function portOf(digits: string): number | undefined {
  const port = Number(digits);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function parseIpv4(text: string): HostAddress | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d+))?$/.exec(text);
  if (m === null) return null;
  const octets = [m[1], m[2], m[3], m[4]].map(Number);
  if (octets.some((octet) => octet > 255)) return null;
  let port: number | null = null;
  if (m[5] !== undefined) {
    const parsed = portOf(m[5]);
    if (parsed === undefined) return null;
    port = parsed;
  }
  return { host: octets.join('.'), port, kind: 'ipv4' };
}

const EIGHT_GROUPS = /^[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){7}$/i;

/** The eight groups of an IPv6 address, zero-padded and lower case; null when it is not one. */
function expandIpv6(address: string): string | null {
  let text = address;
  // A colon at either end stands for a zero group, so `::1` and `1::` expand like `0::1`, `1::0`.
  if (text.startsWith(':')) text = `0${text}`;
  if (text.endsWith(':')) text = `${text}0`;
  if (text.includes('::')) {
    const colons = text.split(':').length - 1;
    // Only the first `::` is expanded: a second one leaves an empty group, which fails below.
    text = text.replace('::', `:${'0:'.repeat(Math.max(0, 8 - colons))}`);
  }
  if (!EIGHT_GROUPS.test(text)) return null;
  return text
    .split(':')
    .map((group) => group.padStart(4, '0'))
    .join(':')
    .toLowerCase();
}

function parseIpv6(text: string): HostAddress | null {
  // In brackets it may carry a port; bare, the last group could not be told from a port.
  const bracketed = /^\[([^\]]*)\]([\s\S]*)$/.exec(text);
  if (bracketed === null) {
    const host = expandIpv6(text);
    return host === null ? null : { host, port: null, kind: 'ipv6' };
  }
  const [, inner = '', rest = ''] = bracketed;
  let port: number | null = null;
  if (rest !== '') {
    // `[::1]:` (a colon, no digits) makes Kong's normalize_ipv6 raise an error; here it is invalid.
    const digits = /^:(\d+)$/.exec(rest)?.[1];
    const parsed = digits === undefined ? undefined : portOf(digits);
    if (parsed === undefined) return null;
    port = parsed;
  }
  const host = expandIpv6(inner);
  return host === null ? null : { host, port, kind: 'ipv6' };
}

function parseName(text: string): HostAddress | null {
  let name = text;
  let port: number | null = null;
  const withPort = /:(\d+)$/.exec(text);
  if (withPort?.[1] !== undefined) {
    const parsed = portOf(withPort[1]);
    if (parsed === undefined) return null;
    port = parsed;
    name = text.slice(0, withPort.index);
  }
  if (!/^[0-9A-Za-z._-]+$/.test(name)) return null;
  const labels = name.split('.');
  const last = labels.length - 1;
  // A leading `-` is allowed (punycode labels may start with one); a trailing one is not. Only the
  // last label may be empty: a fully qualified name ends in a dot.
  if (labels.some((label, i) => label.endsWith('-') || (label === '' && i !== last))) return null;
  return { host: name, port, kind: 'name' };
}

/**
 * A target or host as Kong's `normalize_ip` reads it: `name`, `name:port`, `ipv4`, `ipv4:port`,
 * `ipv6`, `[ipv6]`, `[ipv6]:port`; null when Kong would refuse it (or when the port is 0).
 */
export function parseTargetAddress(text: string): HostAddress | null {
  switch (kindOf(text)) {
    case 'ipv4':
      return parseIpv4(text);
    case 'ipv6':
      return parseIpv6(text);
    case 'name':
      return parseName(text);
  }
}

/**
 * A target as Kong stores it (`format_target` in `kong/db/dao/targets.lua`): `host:port`, IPv6 as
 * `[expanded]:port`, `defaultPort` when none is written; null when the text is not a valid target.
 */
export function formatTargetAddress(text: string, defaultPort = DEFAULT_TARGET_PORT): string | null {
  const address = parseTargetAddress(text);
  if (address === null) return null;
  const host = address.kind === 'ipv6' ? `[${address.host}]` : address.host;
  return `${host}:${address.port ?? defaultPort}`;
}

/** With the `u` flag, a surrogate range only matches a lone surrogate: text with no UTF-8 form. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Checks an upstream's name as Kong's `validate_name` (`kong/db/schema/entities/upstreams.lua`):
 * returns null when the name is fine, else Kong's message. The name is only quoted back when it
 * can be written as UTF-8, as Kong's `get_name_for_error`.
 */
export function isValidUpstreamName(name: string): string | null {
  const address = parseTargetAddress(name);
  const problem = address === null ? 'must be a valid hostname' : address.kind !== 'name' ? 'no ip addresses allowed' : address.port !== null ? 'no port allowed' : null;
  if (problem === null) return null;
  return `${LONE_SURROGATE.test(name) ? 'Invalid name' : `Invalid name ('${name}')`}; ${problem}`;
}
