import { describe, expect, it } from 'vitest';
import { addressIn, pickFreeSubnet, usedCidrs } from '../../src/lab/subnet.ts';

// `ip -j addr show dev lo` and part of `ip -j route show table all` from the Debian 12 lab machine (2026-11-23).
const IP_ADDR = `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]`;
const IP_ROUTE = `[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},{"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2","flags":[]},{"type":"local","dst":"127.0.0.0/8","dev":"lo","table":"local","protocol":"kernel","scope":"host","prefsrc":"127.0.0.1","flags":[]}]`;

describe('subnets', () => {
  it('reads addresses and routes from iproute2 JSON, IPv4 only, without the default route', () => {
    expect(usedCidrs(IP_ADDR, IP_ROUTE)).toEqual(['127.0.0.1/8', '192.0.2.0/24', '127.0.0.0/8']);
  });

  it.each([
    ['nothing used: the random start', [], 0, '10.200.0.0/24'],
    ['the start is taken: the next one', ['10.200.0.1/24'], 0, '10.200.1.0/24'],
    ['a wide route covers many: skips past it', ['10.200.0.0/16'], 0, '10.201.0.0/24'],
    ['a /8 covering all of 10/8 leaves nothing', ['10.0.0.0/8'], 0, 'throws'],
    ['a plain address counts as a /32', ['10.254.255.7'], 0.99999, '10.200.0.0/24'],
    ['unrelated networks do not matter', ['192.0.2.0/24', '172.17.0.1/16'], 0.5, '10.227.128.0/24'],
  ])('%s', (_name, used, random, expected) => {
    if (expected === 'throws') expect(() => pickFreeSubnet(used, random)).toThrow(/no free/);
    else expect(pickFreeSubnet(used, random)).toBe(expected);
  });

  it('never picks a subnet inside the default pod network 10.244.0.0/16, which the inventory would refuse', () => {
    expect(pickFreeSubnet([], (44 * 256) / (55 * 256))).toBe('10.245.0.0/24');
  });

  it('numbers hosts inside a /24', () => {
    expect(addressIn('10.201.3.0/24', 11)).toBe('10.201.3.11');
  });
});
