// The ip tunnel probe for real between two network namespaces this test creates. Where the kernel has ipip the
// pair must ping; where it has none (the development machines) setup must fail cleanly. Either way: no device left.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeTunnelPair } from '../../src/probes/ipip-tunnel.ts';
import { NetnsHost } from './netns-host.ts';

const prefix = `fdt${process.pid % 100000}`;
const ends = [
  { name: 'a', address: '198.51.100.31' },
  { name: 'b', address: '198.51.100.32' },
];
const ns = (name: string) => `${prefix}-${name}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' }).toString();
const created: string[] = [];

beforeAll(() => {
  for (const e of ends) {
    ip('netns', 'add', ns(e.name));
    created.push(ns(e.name));
  }
  ip('-n', ns('a'), 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns('b'));
  for (const e of ends) {
    ip('-n', ns(e.name), 'addr', 'add', `${e.address}/24`, 'dev', 'eth0');
    ip('-n', ns(e.name), 'link', 'set', 'eth0', 'up');
  }
});

afterAll(() => {
  for (const name of created) execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
});

describe('probeTunnelPair between two namespaces', () => {
  it('pings through the tunnel where the kernel has ipip, reports setup failure where it has not, and leaves no device', async () => {
    const canIpip = (() => {
      try {
        ip('-n', ns('a'), 'tunnel', 'add', 'fdcheck', 'mode', 'ipip', 'local', '198.51.100.31', 'remote', '198.51.100.32');
        ip('-n', ns('a'), 'link', 'del', 'fdcheck');
        return true;
      } catch {
        return false;
      }
    })();
    const [ab, ba] = await probeTunnelPair(
      { host: new NetnsHost('a', ns('a')), end: ends[0]! },
      { host: new NetnsHost('b', ns('b')), end: ends[1]! },
      'c0ffee00',
      0,
    );
    if (canIpip) expect([ab!.outcome, ba!.outcome]).toEqual(['ok', 'ok']);
    else expect(ab).toEqual({ from: 'a', to: 'b', outcome: 'unknown', detail: 'ip tunnel probe: a setup-failed, b setup-failed' });
    for (const e of ends) expect(ip('-n', ns(e.name), '-o', 'link', 'show')).not.toMatch(/fdc0ffee/);
  });
});
