// Every rule of meaning over cluster.yaml, one row each: the inventory that breaks it and the message it gives, with
// the line and field parse.ts names for it.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Inventory } from '../../src/config/inventory.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { InputError, type InputIssue } from '../../src/errors.ts';

type Doc = Record<string, unknown> & { network: Record<string, unknown>; hosts: Record<string, unknown>[]; kubernetes?: Record<string, unknown> };

const good = (): Doc => ({
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'Cluster',
  name: 'lab',
  network: { controlPlaneEndpoint: '10.20.0.10:8443', nodeCidr: '10.20.0.0/16' },
  hosts: [
    { name: 'cp-1', address: '10.20.0.11', roles: ['control-plane'] },
    { name: 'cp-2', address: '10.20.0.12', roles: ['control-plane'] },
    { name: 'cp-3', address: '10.20.0.13', roles: ['control-plane'] },
    { name: 'gpu-1', address: '10.20.1.21', roles: ['worker', 'gpu'] },
  ],
});

function issues(doc: Doc): InputIssue[] {
  try {
    parseYaml(stringify(doc), 'cluster.yaml', Inventory);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return [...(error as InputError).issues];
  }
  return [];
}

const rows: { name: string; edit: (d: Doc) => void; field: string; message: RegExp }[] = [
  { name: 'an address with an octet over 255', edit: (d) => (d.hosts[0]!.address = '127.0.0.300'), field: 'hosts[0].address', message: /must be an IP address/ },
  { name: 'a CIDR with a prefix over 32', edit: (d) => (d.network.podCidr = '10.244.0.0/33'), field: 'network.podCidr', message: /10\.244\.0\.0\/33: prefix \/33 is beyond \/32/ },
  { name: 'a CIDR with host bits set', edit: (d) => (d.network.podCidr = '10.244.1.0/16'), field: 'network.podCidr', message: /host bits are set: the network is 10\.244\.0\.0\/16/ },
  { name: 'a pod network inside the service network', edit: (d) => (d.network.podCidr = '10.96.0.0/16'), field: 'network.podCidr', message: /10\.96\.0\.0\/16 overlaps network\.serviceCidr 10\.96\.0\.0\/12: pod and service addresses would collide/ },
  { name: 'a pod network over the nodes’ network', edit: (d) => (d.network.podCidr = '10.0.0.0/8'), field: 'network.podCidr', message: /overlaps network\.nodeCidr 10\.20\.0\.0\/16: the nodes’ own network/ },
  { name: 'a pod network holding a node address (no nodeCidr)', edit: (d) => { delete d.network.nodeCidr; d.network.podCidr = '10.20.0.0/16'; }, field: 'network.podCidr', message: /contains cp-1's address 10\.20\.0\.11/ },
  { name: 'a service network larger than /12', edit: (d) => (d.network.serviceCidr = '10.0.0.0/8'), field: 'network.serviceCidr', message: /larger than \/12: kube-apiserver refuses/ },
  { name: 'a VIP that is a node’s address', edit: (d) => (d.network.controlPlaneEndpoint = '10.20.0.11:8443'), field: 'network.controlPlaneEndpoint', message: /10\.20\.0\.11 is the address of cp-1: the endpoint is the VIP, never a node/ },
  { name: 'a VIP port beyond 65535', edit: (d) => (d.network.controlPlaneEndpoint = '10.20.0.10:99999'), field: 'network.controlPlaneEndpoint', message: /port 99999 is not a TCP port \(1-65535\)/ },
  { name: 'a VIP port 0', edit: (d) => (d.network.controlPlaneEndpoint = '10.20.0.10:0'), field: 'network.controlPlaneEndpoint', message: /port 0 is not a TCP port/ },
  { name: 'a VIP outside the nodes’ subnet', edit: (d) => (d.network.controlPlaneEndpoint = '192.168.1.10:8443'), field: 'network.controlPlaneEndpoint', message: /outside network\.nodeCidr 10\.20\.0\.0\/16: keepalived can only hold an address on the nodes' subnet/ },
  { name: 'a VIP that is the subnet’s broadcast address', edit: (d) => (d.network.controlPlaneEndpoint = '10.20.255.255:8443'), field: 'network.controlPlaneEndpoint', message: /network or broadcast address of 10\.20\.0\.0\/16/ },
  { name: 'a VIP that is a name, not an address', edit: (d) => (d.network.controlPlaneEndpoint = 'api.example:8443'), field: 'network.controlPlaneEndpoint', message: /api\.example is not an IPv4 address: with loadBalancer vip/ },
  { name: 'a VIP inside the pod network', edit: (d) => { delete d.network.nodeCidr; d.network.controlPlaneEndpoint = '10.244.0.10:8443'; }, field: 'network.podCidr', message: /contains the VIP 10\.244\.0\.10/ },
  { name: 'a node outside nodeCidr', edit: (d) => (d.hosts[3]!.address = '10.30.1.21'), field: 'hosts[3].address', message: /10\.30\.1\.21 is outside network\.nodeCidr 10\.20\.0\.0\/16/ },
  { name: 'two control planes', edit: (d) => (d.hosts = d.hosts.slice(1)), field: 'hosts', message: /2 control planes: etcd needs a majority \(2 of 2\), so they tolerate 0 failed member\(s\).*kubernetes\.allowEvenControlPlanes: true/ },
  { name: 'four control planes', edit: (d) => (d.hosts[3]!.roles = ['control-plane']), field: 'hosts', message: /4 control planes: etcd needs a majority \(3 of 4\), so they tolerate 1 failed/ },
  { name: 'no control plane', edit: (d) => (d.hosts = d.hosts.slice(3)), field: 'hosts', message: /needs at least one host with role control-plane/ },
  { name: 'a Kubernetes version that is not one', edit: (d) => (d.kubernetes = { version: 'latest' }), field: 'kubernetes.version', message: /must be a Kubernetes version such as 1\.33/ },
  { name: 'a node name that is not DNS-1123', edit: (d) => (d.hosts[0]!.name = 'CP_1'), field: 'hosts[0].name', message: /lowercase RFC 1123 label/ },
  { name: 'a node name longer than 63 characters', edit: (d) => (d.hosts[0]!.name = 'a'.repeat(64)), field: 'hosts[0].name', message: /lowercase RFC 1123 label/ },
  { name: 'a duplicate address', edit: (d) => (d.hosts[1]!.address = '10.20.0.11'), field: 'hosts[1].address', message: /duplicates hosts\[0\]/ },
  { name: 'a bastion that is not user@host:port', edit: (d) => (d.ssh = { bastion: 'admin@jump:70000' }), field: 'ssh.bastion', message: /is not user@host:port/ },
  { name: 'a rack name with a space', edit: (d) => (d.hosts[3]!.rack = 'row 2'), field: 'hosts[3].rack', message: /must be a short name \(letters, digits, -, _, \.\)/ },
  { name: 'an SSH user that is no login name', edit: (d) => (d.ssh = { user: 'root; rm -rf /' }), field: 'ssh.user', message: /must be a Linux user name/ },
];

describe('inventory rules', () => {
  it('accepts the inventory every row starts from', () => expect(issues(good())).toEqual([]));

  it('runs an even control-plane count when the inventory allows it', () => {
    const d = good();
    d.hosts = d.hosts.slice(1);
    d.kubernetes = { allowEvenControlPlanes: true };
    expect(issues(d)).toEqual([]);
  });

  it('takes a rack per host (doctor --pairs rack groups pairs by it)', () => {
    const d = good();
    d.hosts[3]!.rack = 'r2-a.1';
    expect(issues(d)).toEqual([]);
  });

  it.each(rows)('refuses $name', ({ edit, field, message }) => {
    const d = good();
    edit(d);
    const found = issues(d);
    const hit = found.find((i) => i.field === field && message.test(i.message));
    expect(hit, JSON.stringify(found, null, 1)).toBeDefined();
    expect(hit!.line).toBeGreaterThan(0);
    expect(hit!.column).toBeGreaterThan(0);
  });

  it('reports every problem at once, not just the first', () => {
    const d = good();
    d.hosts[0]!.address = '127.0.0.300';
    d.network.podCidr = '10.244.0.0/33';
    d.network.controlPlaneEndpoint = '10.20.0.12:99999';
    const fields = issues(d).map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['hosts[0].address', 'network.podCidr', 'network.controlPlaneEndpoint']));
  });
});
