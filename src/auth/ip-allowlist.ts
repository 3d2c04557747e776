/**
 * @module auth/ip-allowlist
 * The IP allowlist (config `security.ip_allowlist`): addresses and CIDR ranges, IPv4 and IPv6.
 * Compiled once into a `net.BlockList` (a match costs a few hundred ns, no parsing per request).
 * An IPv4-mapped IPv6 client address (`::ffff:127.0.0.1`, what a dual-stack listener reports for
 * IPv4 clients) is matched as the IPv4 address it carries. An empty list allows nothing; `0.0.0.0/0`
 * and `::/0` together allow everyone.
 */
import { BlockList, isIP } from 'node:net';

import { FetchmlError } from '../core/errors.ts';

/** The default: loopback and private networks ("local networks only"). */
export const LOCAL_NETWORKS = [
  '127.0.0.0/8',
  '::1',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
] as const;

/** A compiled allowlist. */
export interface IpAllowlist {
  allows(ip: string): boolean;
}

const MAPPED_RE = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** `ip` with an IPv4-mapped IPv6 prefix removed. */
export function unmapIp(ip: string): string {
  const m = MAPPED_RE.exec(ip);
  return m ? m[1]! : ip;
}

function invalid(entry: string, why: string): FetchmlError {
  return new FetchmlError(
    'ML_ERR_CONFIG_INVALID',
    `security.ip_allowlist: ${JSON.stringify(entry)} ${why}`,
    { details: { field: 'security.ip_allowlist' } },
  );
}

/** Compiles `entries`; a malformed entry is ML_ERR_CONFIG_INVALID naming it. */
export function compileAllowlist(entries: readonly string[]): IpAllowlist {
  const list = new BlockList();
  for (const entry of entries) {
    const [rawAddr, bits, extra] = entry.trim().split('/');
    if (extra !== undefined || !rawAddr) throw invalid(entry, 'is not an address or CIDR range');
    const addr = unmapIp(rawAddr);
    const family = isIP(addr);
    if (family === 0) throw invalid(entry, 'is not an IPv4 or IPv6 address');
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(addr, type);
      continue;
    }
    const prefix = Number(bits);
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || prefix > max) {
      throw invalid(entry, `has a prefix length outside 0-${max}`);
    }
    list.addSubnet(addr, prefix, type);
  }
  return {
    allows(ip) {
      const addr = unmapIp(ip);
      const family = isIP(addr);
      if (family === 0) return false;
      return list.check(addr, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
