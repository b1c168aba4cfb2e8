// Doctor's firewall check where firewalld runs, from real firewalld 1.3.3 output (test/fixtures/firewalld/, see the
// README there): which zone a peer's packets fall into, whether the zone or a policy lets each needed port in, and
// the finding with its fix.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { acceptedBy, firewalldNeeds, zoneFor, type Peer } from '../../src/checks/firewalld.ts';
import { runNodeChecks } from '../../src/checks/registry.ts';
import type { Plan } from '../../src/checks/types.ts';
import { parseFirewalld, parseRichRule, type FirewalldConfig } from '../../src/facts/parse-firewalld.ts';
import { fixtureFacts } from '../facts/fixtures.ts';

const config = (name: string): FirewalldConfig => parseFirewalld(readFileSync(new URL(`../fixtures/firewalld/${name}.out`, import.meta.url), 'utf8').split('\n').filter((l) => l.trim()))!;
const plan: Plan = {
  kubernetesVersion: '1.33', kubernetesVersionSource: 'default', cni: 'calico', encapsulation: 'vxlan', podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12',
  controlPlaneEndpoint: 'localhost:6443', kubeletCgroupDriver: 'systemd', imageBytes: undefined, nvidiaDriver: undefined,
};
// The lab nodes the fixtures came from: fa (control plane, where drop-ferry.out was taken) and fb.
const FA: Peer = { name: 'fa', address: '10.219.152.11', roles: ['control-plane'] };
const FB: Peer = { name: 'fb', address: '10.219.152.12', roles: ['worker'] };

describe('parsing firewall-cmd output', () => {
  it('reads the default zone, every zone and policy, the ipsets and the services’ ports', () => {
    const c = config('drop-ferry');
    expect(c.defaultZone).toBe('drop');
    expect(c.zones.map((z) => [z.name, z.target])).toContainEqual(['drop', 'DROP']);
    expect(c.policies.map((p) => [p.name, p.priority, p.ingressZones, p.egressZones, p.richRules.length])).toEqual([
      ['allow-host-ipv6', -15000, ['ANY'], ['HOST'], 4], ['ferry', -100, ['ANY'], ['HOST'], 13],
    ]);
    expect(c.ipsets['ferry-nodes']).toEqual(['10.219.152.11', '10.219.152.12']);
    expect(c.services.ssh).toEqual({ ports: ['22/tcp'], protocols: [] });
    expect(config('public').zones.find((z) => z.name === 'public')!.services).toEqual(['dhcpv6-client', 'ssh']);
  });
  it.each([
    ['rule family="ipv4" source ipset="ferry-nodes" port port="10250" protocol="tcp" accept', { family: 'ipv4', source: { ipset: 'ferry-nodes' }, match: { port: '10250', protocol: 'tcp' }, action: 'accept' }],
    ['rule family="ipv4" source NOT address="10.0.0.0/8" protocol value="4" drop', { source: { address: '10.0.0.0/8' }, sourceInverted: true, match: { protocol: '4' }, action: 'drop' }],
    ['rule family="ipv6" icmp-type name="neighbour-advertisement" accept', { family: 'ipv6', action: 'accept' }],
    ['rule service name="ssh" log prefix="x" level="info" reject', { match: { service: 'ssh' }, action: 'reject' }],
  ])('rich rule %s', (line, want) => {
    expect(parseRichRule(line)).toMatchObject(want);
  });
});

describe('what firewalld lets in', () => {
  const needs = (self: Peer) => firewalldNeeds(self, [FA, FB], plan).map((n) => `${'port' in n.what ? `${n.what.port}/${n.what.protocol}` : `proto ${n.what.ipProtocol}`} from ${n.from.map((p) => p.name).join(',')}`);
  it('needs on the control plane: the API, BGP, the registry and VXLAN from the worker (etcd only from control planes: none here)', () => {
    expect(needs(FA)).toEqual(['6443/tcp from fb', '179/tcp from fb', '5000/tcp from fb', '4789/udp from fb']);
    expect(needs(FB)).toEqual(['10250/tcp from fa', '179/tcp from fa', '4789/udp from fa']);
  });
  it('auto needs both IP-in-IP and VXLAN open until one is chosen', () => {
    expect(firewalldNeeds(FB, [FA, FB], { ...plan, encapsulation: 'auto' }).map((n) => n.service)).toEqual(['kubelet', 'Calico BGP', 'IP-in-IP (protocol 4)', 'VXLAN']);
  });

  const cases: [string, string, string | undefined][] = [
    ['public (Debian’s default): only ssh and dhcpv6-client', 'public', undefined],
    ['drop as default zone', 'drop', undefined],
    ['drop as default zone, ferry’s policy loaded', 'drop-ferry', 'policy ferry'],
  ];
  it.each(cases)('6443/tcp from the worker: %s', (_name, fixture, want) => {
    expect(acceptedBy(config(fixture), { port: 6443, protocol: 'tcp' }, FB.address, 'host0')).toBe(want);
  });
  it('ferry’s policy lets BGP in from a node, not from an address outside its ipset', () => {
    const c = config('drop-ferry');
    expect(acceptedBy(c, { port: 179, protocol: 'tcp' }, FB.address, 'host0')).toBe('policy ferry');
    expect(acceptedBy(c, { port: 179, protocol: 'tcp' }, '10.219.152.99', 'host0')).toBeUndefined();
    expect(acceptedBy(c, { ipProtocol: 112 }, FB.address, 'host0')).toBe('policy ferry');
  });
  it('a zone bound to the peer’s address wins over the interface and default zones', () => {
    const c = config('drop');
    const trusted = c.zones.find((z) => z.name === 'trusted')!;
    const site = { ...c, zones: c.zones.map((z) => (z === trusted ? { ...z, sources: ['10.219.152.0/24'] } : z.name === 'public' ? { ...z, interfaces: ['host0'] } : z)) };
    expect(zoneFor(site, FB.address, 'host0')!.name).toBe('trusted');
    expect(zoneFor(site, '192.0.2.1', 'host0')!.name).toBe('public');
    expect(zoneFor(site, '192.0.2.1', 'eth9')!.name).toBe('drop');
    expect(acceptedBy(site, { port: 6443, protocol: 'tcp' }, FB.address, 'host0')).toBe('zone trusted');
  });
  it('a service in the zone counts with its ports, and protocol 4 by number or as ipencap (never as ipip, which is 94)', () => {
    const c = config('public');
    const withPorts = { ...c, zones: c.zones.map((z) => (z.name === 'public' ? { ...z, protocols: ['ipip'], ports: ['2379-2380/tcp'] } : z)) };
    expect(acceptedBy(withPorts, { port: 22, protocol: 'tcp' }, FB.address, 'host0')).toBe('zone public');
    expect(acceptedBy(withPorts, { port: 2380, protocol: 'tcp' }, FB.address, 'host0')).toBe('zone public');
    expect(acceptedBy(withPorts, { ipProtocol: 4 }, FB.address, 'host0')).toBeUndefined();
    const encap = { ...c, zones: c.zones.map((z) => (z.name === 'public' ? { ...z, protocols: ['ipencap'] } : z)) };
    expect(acceptedBy(encap, { ipProtocol: 4 }, FB.address, 'host0')).toBe('zone public');
  });
});

describe('the firewall finding', () => {
  const facts = (fixture: string | undefined) => {
    const f = fixtureFacts('debian12-lab-node', 'fa');
    f.services = { ...f.services, firewalld: 'active' };
    f.iptables.firewalldBackend = 'nftables';
    f.firewalld = fixture ? config(fixture) : undefined;
    f.addresses = [{ iface: 'host0', address: FA.address, prefix: 24 }];
    return f;
  };
  const run = (fixture: string | undefined) =>
    runNodeChecks(facts(fixture), { name: 'fa', address: FA.address, roles: FA.roles, plan, peers: [FA, FB] }, { only: ['firewall'] });

  it('passes once ferry’s policy is loaded, with a default zone that drops everything', () => {
    expect(run('drop-ferry')).toEqual([{ check: 'firewall', host: 'fa', status: 'pass', message: 'firewalld is active (FirewallBackend=nftables) (default zone drop) and lets in all 4 ports and protocols the cluster needs here' }]);
  });
  it('warns before install, naming each port and who is turned away, with ferry install and the firewall-cmd lines as the fix', () => {
    const [f] = run('public');
    expect(f).toMatchObject({ status: 'warn', message: 'firewalld is active (FirewallBackend=nftables) (default zone public) and turns away 6443/tcp (kube-apiserver) from fb; 179/tcp (Calico BGP) from fb; 5000/tcp (local image registry) from fb; 4789/udp (VXLAN) from fb' });
    expect(f!.remedy).toMatch(/^ferry install opens them through firewalld/);
    expect(f!.remedy).toContain(`firewall-cmd --permanent --policy=ferry --add-rich-rule='rule family="ipv4" source address="10.219.152.12" port port="6443" protocol="tcp" accept'`);
    expect(f!.remedy).toMatch(/firewall-cmd --reload$/);
  });
  it('still warns, as before, when firewalld runs but its configuration could not be read', () => {
    expect(run(undefined)[0]).toMatchObject({ status: 'warn', message: expect.stringContaining('could not be read') });
  });
});
