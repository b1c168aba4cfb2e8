// What an inventory must mean, beyond its shape: networks that do not collide, a VIP that is not a node, a control
// plane etcd can keep quorum on. Pure: each rule returns issues at paths, so parse.ts can name line and column.
import type { PathIssue } from './parse.ts';
import { cidrContains, cidrsOverlap, formatIpv4, ipv4Number, parseBastionSpec, parseCidr, splitHostPort, type Cidr } from './net.ts';

/** The inventory fields the rules read (the schema's output, before its own type exists). */
export interface InventoryFacts {
  ssh: { bastion?: string | undefined };
  network: { controlPlaneEndpoint: string; podCidr: string; serviceCidr: string; nodeCidr?: string | undefined; loadBalancer: 'vip' | 'node-local' };
  kubernetes: { allowEvenControlPlanes?: boolean | undefined };
  hosts: readonly { name: string; address: string; roles: readonly string[] }[];
}

/** kube-apiserver refuses a service range of more than 2^20 addresses (--service-cluster-ip-range, "too large"). */
const SERVICE_PREFIX_MIN = 12;

/** The networks that parse (the schema has named those that do not). */
function networks(inv: InventoryFacts): { name: string; path: PropertyKey[]; cidr: Cidr }[] {
  const out: { name: string; path: PropertyKey[]; cidr: Cidr }[] = [];
  for (const name of ['podCidr', 'serviceCidr', 'nodeCidr'] as const) {
    const text = inv.network[name];
    if (text === undefined) continue;
    const path = ['network', name];
    const parsed = parseCidr(text);
    if (!('error' in parsed)) out.push({ name, path, cidr: parsed });
  }
  return out;
}

function networkRules(inv: InventoryFacts, vip: number | undefined, issues: PathIssue[]): void {
  const nets = networks(inv);
  const byName = new Map(nets.map((n) => [n.name, n]));
  const service = byName.get('serviceCidr');
  if (service && service.cidr.prefix < SERVICE_PREFIX_MIN)
    issues.push({ path: service.path, message: `${service.cidr.text} is larger than /${SERVICE_PREFIX_MIN}: kube-apiserver refuses a service range of more than 2^20 addresses` });
  for (const [i, a] of nets.entries())
    for (const b of nets.slice(i + 1))
      if (cidrsOverlap(a.cidr, b.cidr)) {
        const why = b.name === 'nodeCidr' ? 'the nodes’ own network: pod or service traffic would be routed away from the nodes' : 'pod and service addresses would collide';
        issues.push({ path: a.path, message: `${a.cidr.text} overlaps network.${b.name} ${b.cidr.text}: ${why}` });
      }
  const node = byName.get('nodeCidr');
  inv.hosts.forEach((h, i) => {
    const address = ipv4Number(h.address);
    if (address === undefined) return;
    for (const n of nets) {
      if (n.name === 'nodeCidr' && !cidrContains(n.cidr, address))
        issues.push({ path: ['hosts', i, 'address'], message: `${h.address} is outside network.nodeCidr ${n.cidr.text}` });
      if (n.name !== 'nodeCidr' && cidrContains(n.cidr, address))
        issues.push({ path: n.path, message: `${n.cidr.text} contains ${h.name}'s address ${h.address}: the pod and service networks must not cover the nodes` });
    }
  });
  if (vip === undefined) return;
  for (const n of nets)
    if (n.name !== 'nodeCidr' && cidrContains(n.cidr, vip))
      issues.push({ path: n.path, message: `${n.cidr.text} contains the VIP ${formatIpv4(vip)} (network.controlPlaneEndpoint)` });
  if (inv.network.loadBalancer === 'vip' && node) {
    const endpoint = ['network', 'controlPlaneEndpoint'];
    if (!cidrContains(node.cidr, vip))
      issues.push({ path: endpoint, message: `the VIP ${formatIpv4(vip)} is outside network.nodeCidr ${node.cidr.text}: keepalived can only hold an address on the nodes' subnet` });
    else if (node.cidr.prefix < 31 && (vip === node.cidr.first || vip === node.cidr.first + 2 ** (32 - node.cidr.prefix) - 1))
      issues.push({ path: endpoint, message: `the VIP ${formatIpv4(vip)} is the network or broadcast address of ${node.cidr.text}` });
  }
}

/** The VIP's address when it is one; issues for a port out of range, a node's address, a name where an IP is needed. */
function endpointRules(inv: InventoryFacts, issues: PathIssue[]): number | undefined {
  const path = ['network', 'controlPlaneEndpoint'];
  const hp = splitHostPort(inv.network.controlPlaneEndpoint);
  if (!hp) return undefined; // the schema has said it is not HOST:PORT
  if (hp.port < 1 || hp.port > 65535) issues.push({ path, message: `port ${hp.port} is not a TCP port (1-65535)` });
  const vip = ipv4Number(hp.host);
  if (vip === undefined) {
    if (inv.network.loadBalancer === 'vip') issues.push({ path, message: `${hp.host} is not an IPv4 address: with loadBalancer vip the endpoint is the VIP keepalived holds` });
    return undefined;
  }
  const node = inv.hosts.find((h) => h.address === hp.host);
  if (node && inv.network.loadBalancer === 'vip')
    issues.push({ path, message: `${hp.host} is the address of ${node.name}: the endpoint is the VIP, never a node (that node going down would take the API with it)` });
  return vip;
}

function controlPlaneRules(inv: InventoryFacts, issues: PathIssue[]): void {
  const count = inv.hosts.filter((h) => h.roles.includes('control-plane')).length;
  if (count === 0) issues.push({ path: ['hosts'], message: 'needs at least one host with role control-plane' });
  else if (count % 2 === 0 && !inv.kubernetes.allowEvenControlPlanes)
    issues.push({
      path: ['hosts'],
      message:
        `${count} control planes: etcd needs a majority (${count / 2 + 1} of ${count}), so they tolerate ${count / 2 - 1} failed ` +
        `member(s), no more than ${count - 1} would, and each extra member is one more that can break quorum; ` +
        'use 1 or an odd number from 3, or set kubernetes.allowEvenControlPlanes: true to run it anyway',
    });
}

/** Every rule of meaning over an inventory whose shape is valid; empty when it makes sense. */
export function inventoryIssues(inv: InventoryFacts): PathIssue[] {
  const issues: PathIssue[] = [];
  const seen = new Map<string, number>();
  inv.hosts.forEach((h, i) => {
    for (const [field, value] of [['name', h.name], ['address', h.address]] as const) {
      const first = seen.get(`${field}:${value}`);
      if (first !== undefined) issues.push({ path: ['hosts', i, field], message: `duplicates hosts[${first}]` });
      else seen.set(`${field}:${value}`, i);
    }
  });
  controlPlaneRules(inv, issues);
  if (inv.ssh.bastion !== undefined && !parseBastionSpec(inv.ssh.bastion))
    issues.push({ path: ['ssh', 'bastion'], message: `"${inv.ssh.bastion}" is not user@host:port (port 1-65535)` });
  networkRules(inv, endpointRules(inv, issues), issues);
  return issues;
}
