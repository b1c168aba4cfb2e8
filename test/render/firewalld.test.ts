// ferry's firewalld policy as a table: roles × encapsulation × VIP or node-local → what it lets in, from whom.
// The whole policy text of one node is compared line by line; the files were loaded by real firewalld 1.3.3 in a
// lab node (test/phases/firewalld.lab.test.ts, and test/fixtures/firewalld/drop-ferry.out is its listing).
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import type { NftablesInput } from '../../src/render/nftables.ts';
import { FIREWALLD_POLICY_PATH, firewalldOpenings, firewalldRuntime, ipsetPath, renderFirewalld } from '../../src/render/firewalld.ts';

const NODES = ['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.21'];
function input(over: Partial<NftablesInput> = {}): NftablesInput {
  return {
    roles: ['worker'], nodes: NODES, controlPlanes: NODES.slice(0, 3), balancers: [], podCidr: '10.244.0.0/16', cni: 'calico',
    encapsulation: { kind: 'vxlan', port: 4789 }, registryPort: 5000, ...over,
  };
}
/** Each opening as `what from whom`. */
const table = (i: NftablesInput) =>
  firewalldOpenings(i).map((o) => `${'ipProtocol' in o ? `proto ${o.ipProtocol}` : `${o.port}/${o.protocol}`} from ${'any' in o.from ? 'any' : 'ipset' in o.from ? o.from.ipset : o.from.address}`);

const WORKER = ['10250/tcp from ferry-nodes', '10250/tcp from 10.244.0.0/16', '179/tcp from ferry-nodes', '5473/tcp from ferry-nodes'];
const CP = ['6443/tcp from any', '2379-2380/tcp from ferry-control-planes', '10257/tcp from ferry-control-planes', '10259/tcp from ferry-control-planes', ...WORKER];

describe('firewalld openings', () => {
  const cases: [string, NftablesInput, string[]][] = [
    ['a worker, VXLAN (Calico)', input(), [...WORKER, '4789/udp from ferry-nodes']],
    ['a worker, IP-in-IP', input({ encapsulation: { kind: 'ipip' } }), [...WORKER, 'proto 4 from ferry-nodes']],
    ['a worker on Cilium (VXLAN 8472, health 4240, no BGP)', input({ cni: 'cilium', encapsulation: { kind: 'vxlan', port: 8472 } }),
      ['10250/tcp from ferry-nodes', '10250/tcp from 10.244.0.0/16', '4240/tcp from ferry-nodes', '8472/udp from ferry-nodes']],
    ['a control plane, node-local balancing (no balancer port, no VRRP)', input({ roles: ['control-plane'] }), [...CP, '4789/udp from ferry-nodes']],
    ['a control plane carrying the registry, the VIP and VRRP, seeded by the admin host', input({
      roles: ['control-plane', 'registry', 'lb'], balancers: NODES.slice(0, 3), balancerPort: 8443, adminAddress: '10.0.0.1', encapsulation: { kind: 'ipip' },
    }), ['6443/tcp from any', '8443/tcp from any', ...CP.slice(1, 6), '5000/tcp from ferry-nodes', '5000/tcp from 10.0.0.1', ...WORKER.slice(2), 'proto 4 from ferry-nodes', 'proto 112 from ferry-balancers']],
    ['a dedicated lb host: the balancer port and VRRP, not the API server', input({ roles: ['lb'], balancers: ['10.0.0.31', '10.0.0.32'], balancerPort: 6443, nodes: [...NODES, '10.0.0.31', '10.0.0.32'] }),
      ['6443/tcp from any', ...WORKER, '4789/udp from ferry-nodes', 'proto 112 from ferry-balancers']],
    ['a single balancer has no VRRP peer', input({ roles: ['control-plane', 'lb'], balancers: ['10.0.0.11'], balancerPort: 8443 }),
      ['6443/tcp from any', '8443/tcp from any', ...CP.slice(1), '4789/udp from ferry-nodes']],
  ];
  it.each(cases)('%s', (_name, i, want) => {
    expect(table(i)).toEqual(want);
  });

  it('refuses what the nft table refuses (one check of the input for both firewalls)', () => {
    expect(() => firewalldOpenings(input({ nodes: ['10.0.0.300'] }))).toThrow(UserError);
  });
});

describe('firewalld files', () => {
  it('writes the ipsets the rules name, before the policy, each checked on a copy of /etc/firewalld', () => {
    const files = renderFirewalld(input({ roles: ['control-plane', 'lb'], balancers: NODES.slice(0, 3), balancerPort: 8443 }));
    expect(files.map((f) => f.path)).toEqual([ipsetPath('ferry-nodes'), ipsetPath('ferry-control-planes'), ipsetPath('ferry-balancers'), FIREWALLD_POLICY_PATH]);
    expect(files.every((f) => f.verify?.[0] === 'sh' && f.verify.at(-1) === '{staged}' && f.verify[2]!.includes('firewall-offline-cmd --system-config "$d" --check-config'))).toBe(true);
    expect(files[0]!.content).toBe('<?xml version="1.0" encoding="utf-8"?>\n<!-- Written by ferry. -->\n<ipset type="hash:ip">\n  <short>ferry-nodes</short>\n'
      + NODES.map((n) => `  <entry>${n}</entry>\n`).join('') + '</ipset>\n');
  });

  it('a worker gets only ferry-nodes, and the policy ANY → HOST at priority -100 with one commented rule per opening', () => {
    const files = renderFirewalld(input());
    expect(files.map((f) => f.path)).toEqual([ipsetPath('ferry-nodes'), FIREWALLD_POLICY_PATH]);
    expect(files[1]!.content.split('\n')).toEqual([
      '<?xml version="1.0" encoding="utf-8"?>',
      '<!-- Written by ferry: what the cluster needs through firewalld. ferry reset removes this file and the ferry-* ipsets. -->',
      '<policy target="CONTINUE" priority="-100">',
      '  <short>ferry</short>',
      '  <description>Kubernetes cluster traffic, as ferry installed it (the same openings as the nft table inet ferry).</description>',
      '  <ingress-zone name="ANY"/>',
      '  <egress-zone name="HOST"/>',
      '  <!-- kubelet from nodes -->',
      '  <rule family="ipv4"><source ipset="ferry-nodes"/><port port="10250" protocol="tcp"/><accept/></rule>',
      '  <!-- kubelet from pods (metrics, logs, exec) -->',
      '  <rule family="ipv4"><source address="10.244.0.0/16"/><port port="10250" protocol="tcp"/><accept/></rule>',
      '  <!-- Calico BGP -->',
      '  <rule family="ipv4"><source ipset="ferry-nodes"/><port port="179" protocol="tcp"/><accept/></rule>',
      '  <!-- Calico Typha -->',
      '  <rule family="ipv4"><source ipset="ferry-nodes"/><port port="5473" protocol="tcp"/><accept/></rule>',
      '  <!-- VXLAN: pod traffic between nodes -->',
      '  <rule family="ipv4"><source ipset="ferry-nodes"/><port port="4789" protocol="udp"/><accept/></rule>',
      '</policy>',
      '',
    ]);
  });

  it('says how firewall-cmd reports the loaded policy and ipsets (the form test/phases/fixtures/firewalld/snap-installed.out shows)', () => {
    expect(firewalldRuntime(input({ roles: ['control-plane', 'lb'], balancers: ['10.0.0.12', '10.0.0.11'], balancerPort: 8443, encapsulation: { kind: 'ipip' } }))).toMatchObject({
      rules: expect.arrayContaining([
        'rule family="ipv4" port port="8443" protocol="tcp" accept',
        'rule family="ipv4" source ipset="ferry-control-planes" port port="2379-2380" protocol="tcp" accept',
        'rule family="ipv4" source address="10.244.0.0/16" port port="10250" protocol="tcp" accept',
        'rule family="ipv4" source ipset="ferry-balancers" protocol value="112" accept',
        'rule family="ipv4" source ipset="ferry-nodes" protocol value="4" accept',
      ]),
      ipsets: { 'ferry-nodes': NODES, 'ferry-control-planes': NODES.slice(0, 3), 'ferry-balancers': ['10.0.0.11', '10.0.0.12'] },
    });
  });
});
