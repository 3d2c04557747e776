import { describe, expect, it } from 'vitest';

import { isFetchmlError } from '../core/errors.ts';
import { compileAllowlist, LOCAL_NETWORKS } from './ip-allowlist.ts';

describe('ip allowlist', () => {
  const local = compileAllowlist(LOCAL_NETWORKS);

  it('allows loopback and private networks, IPv4-mapped included', () => {
    for (const ip of [
      '127.0.0.1',
      '127.8.9.10',
      '::1',
      '10.1.2.3',
      '172.31.255.1',
      '192.168.0.7',
    ]) {
      expect(local.allows(ip), ip).toBe(true);
    }
    for (const ip of ['::ffff:127.0.0.1', '::FFFF:10.0.0.5', '::ffff:192.168.1.1']) {
      expect(local.allows(ip), ip).toBe(true);
    }
  });

  it('refuses public addresses, mapped or not, and garbage', () => {
    for (const ip of ['8.8.8.8', '172.32.0.1', '::ffff:8.8.8.8', '2001:db8::1', '::2', '', 'x']) {
      expect(local.allows(ip), ip).toBe(false);
    }
  });

  it('matches IPv6 ranges and single addresses; a mapped entry is its IPv4 address', () => {
    const list = compileAllowlist(['2001:db8::/32', 'fe80::1', '::ffff:203.0.113.9']);
    expect(list.allows('2001:db8:1::5')).toBe(true);
    expect(list.allows('2001:db9::1')).toBe(false);
    expect(list.allows('fe80::1')).toBe(true);
    expect(list.allows('fe80::2')).toBe(false);
    expect(list.allows('203.0.113.9')).toBe(true);
    expect(list.allows('::ffff:203.0.113.9')).toBe(true);
  });

  it('an empty list allows nothing; 0.0.0.0/0 + ::/0 allow everyone', () => {
    expect(compileAllowlist([]).allows('127.0.0.1')).toBe(false);
    const all = compileAllowlist(['0.0.0.0/0', '::/0']);
    expect(all.allows('8.8.8.8') && all.allows('2001:db8::1')).toBe(true);
  });

  it('refuses malformed entries naming them', () => {
    for (const entry of ['10.0.0.0/33', '::/129', 'localhost', '10.0.0.0/8/1', '1.2.3.4/x']) {
      let err: unknown;
      try {
        compileAllowlist([entry]);
      } catch (e) {
        err = e;
      }
      expect(isFetchmlError(err, 'ML_ERR_CONFIG_INVALID'), entry).toBe(true);
      expect((err as Error).message).toContain(JSON.stringify(entry));
    }
  });
});
