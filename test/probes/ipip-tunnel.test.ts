import { describe, expect, it } from 'vitest';
import { innerAddresses, tunnelDevice, tunnelScript } from '../../src/probes/ipip-tunnel.ts';

describe('ip tunnel variant of the IP-in-IP probe: the command plan', () => {
  it('names devices with the fd prefix, the run and the pair, within the 15-character limit', () => {
    expect(tunnelDevice('a1b2c3d4e5f6', 0)).toBe('fda1b2c3d40');
    expect(tunnelDevice('a1b2c3d4e5f6', 4000).length).toBeLessThanOrEqual(15);
  });
  it('uses inner addresses inside 198.18.0.0/15 that differ per pair', () => {
    expect(innerAddresses(0)).toEqual(['198.18.0.0', '198.18.0.1']);
    expect(innerAddresses(200)).toEqual(['198.18.1.144', '198.18.1.145']);
  });
  it('creates the tunnel, pings the peer, and deletes the tunnel on exit and on TERM/INT/HUP', () => {
    const script = tunnelScript({ device: 'fdabc0', local: '10.0.0.11', remote: '10.0.0.12', innerLocal: '198.18.0.0', innerRemote: '198.18.0.1', seconds: 4 }).shell;
    const lines = script.split('\n');
    expect(lines[0]).toBe('dev=fdabc0');
    expect(lines[1]).toBe(`trap 'ip link del "$dev" 2>/dev/null' EXIT`);
    expect(lines[2]).toBe(`trap 'exit 143' TERM INT HUP`);
    expect(script).toContain('ip tunnel add "$dev" mode ipip local 10.0.0.11 remote 10.0.0.12 ttl 64');
    expect(script).toContain('ip addr add 198.18.0.0 peer 198.18.0.1/32 dev "$dev"');
    expect(script).toContain('ping -c 3 -i 0.3 -W 1 -w 4 198.18.0.1');
    expect(script.indexOf('trap')).toBeLessThan(script.indexOf('ip tunnel add'));
  });
  it('quotes hostile values instead of running them', () => {
    const script = tunnelScript({ device: 'fd; reboot', local: '$(id)', remote: '10.0.0.12', innerLocal: '198.18.0.0', innerRemote: '198.18.0.1', seconds: 4 }).shell;
    expect(script).toContain(`dev='fd; reboot'`);
    expect(script).toContain(`local '$(id)'`);
  });
});
