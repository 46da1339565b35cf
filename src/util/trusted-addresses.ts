import { BlockList, isIP } from 'node:net';

/**
 * A set of addresses and CIDR blocks (`--trusted-ips`), compiled once. Backed by Node's `BlockList`,
 * which compares addresses in binary form, so `10.0.0.1`, `::ffff:10.0.0.1` and zero-padded IPv6
 * spellings cannot be used to slip past a textual comparison.
 */
export interface AddressSet {
  /** Whether `address` (IPv4, IPv6 or IPv4-mapped IPv6) is in the set. */
  has(address: string): boolean;
  /** True when the set holds nothing: nobody is trusted. */
  readonly empty: boolean;
}

const mappedV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * Compiles `entries` (`10.0.0.0/8`, `192.168.1.7`, `2001:db8::/32`, `0.0.0.0/0`). Throws a TypeError
 * naming the first bad entry: a typo in a trust setting must stop the start, not trust nobody silently.
 */
export function compileAddressSet(entries: readonly string[], option = 'trusted-ips'): AddressSet {
  const list = new BlockList();
  let count = 0;
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    if (family === 0) throw new TypeError(`${option}: '${entry}' is not an IP address or CIDR block`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash === -1) {
      list.addAddress(address, type);
    } else {
      const prefixText = entry.slice(slash + 1);
      const prefix = Number(prefixText);
      if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
        throw new TypeError(`${option}: '${entry}' has an invalid prefix length`);
      }
      list.addSubnet(address, prefix, type);
    }
    count++;
  }
  const empty = count === 0;
  return {
    empty,
    has(address) {
      if (empty) return false;
      // An IPv4 peer on a dual-stack socket shows up as ::ffff:a.b.c.d; match it against IPv4 rules too.
      const mapped = mappedV4.exec(address);
      if (mapped?.[1] !== undefined && list.check(mapped[1], 'ipv4')) return true;
      const family = isIP(address);
      if (family === 0) return false;
      return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
