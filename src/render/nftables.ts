// ferry's own nftables table (`table inet ferry`): cluster-internal ports (etcd, kubelet, registry, BGP, Typha)
// and the CNI's encapsulation (IP protocol 4, or VXLAN's UDP port) are accepted from cluster nodes (and pods
// where they need it) and dropped from everyone else. The chain's policy is accept: ferry owns only this table,
// never flushes the ruleset or another table, and replaces its own table atomically (add, delete, define).
import { UserError } from '../errors.ts';
import { renderedFile, STAGED_FILE, type RenderedFile } from './file.ts';
import { renderUnit } from './systemd.ts';

export type NodeRole = 'control-plane' | 'worker' | 'gpu' | 'lb' | 'registry';

export interface NftablesInput {
  /** Roles of the node the rules are for: `lb` when it carries the VIP and HAProxy, `registry` when it runs a replica. */
  roles: readonly NodeRole[];
  /** Every node address of the cluster. */
  nodes: readonly string[];
  controlPlanes: readonly string[];
  /** Hosts that exchange VRRP (VIP mode); empty in node-local mode. */
  balancers: readonly string[];
  podCidr: string;
  cni: 'calico' | 'cilium' | 'flannel';
  /** IP-in-IP (IP protocol 4) or VXLAN on a UDP port (Calico 4789; Cilium and Flannel 8472). */
  encapsulation: { kind: 'ipip' } | { kind: 'vxlan'; port: number };
  /** HAProxy frontend port on balancer hosts (VIP mode), e.g. 8443; omitted when it is 6443 on lb-only hosts. */
  balancerPort?: number;
  registryPort?: number;
  /** The admin host as this node sees it (it seeds the registry over the network), when known. */
  adminAddress?: string;
}

export const NFTABLES_PATH = '/etc/nftables.d/ferry.nft';

const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const ipv4Cidr = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;

function set(name: string, elements: readonly string[], interval = false): string[] {
  return [
    `    set ${name} {`,
    '        type ipv4_addr',
    ...(interval ? ['        flags interval'] : []),
    ...(elements.length > 0 ? [`        elements = { ${elements.join(', ')} }`] : []),
    '    }',
  ];
}

/** Accept `match` from `source` set(s), drop it from anyone else. */
function onlyFrom(match: string, sources: readonly string[], why: string): string[] {
  return [`        # ${why}`, ...sources.map((s) => `        ${match} ip saddr @${s} accept`), `        ${match} drop`];
}

function checkInput(input: NftablesInput): void {
  for (const a of [...input.nodes, ...input.controlPlanes, ...input.balancers, ...(input.adminAddress ? [input.adminAddress] : [])])
    if (!ipv4.test(a)) throw new UserError(`nftables: ${JSON.stringify(a)} is not an IPv4 address`);
  if (!ipv4Cidr.test(input.podCidr)) throw new UserError(`nftables: pod CIDR ${input.podCidr} is not an IPv4 CIDR`);
  if (input.controlPlanes.some((c) => !input.nodes.includes(c))) throw new UserError('nftables: every control plane must be a node');
  const ports = [input.balancerPort, input.registryPort, input.encapsulation.kind === 'vxlan' ? input.encapsulation.port : undefined];
  for (const p of ports) if (p !== undefined && !(Number.isInteger(p) && p > 0 && p < 65536)) throw new UserError(`nftables: bad port ${p}`);
}

/** The ruleset text for one node (for `nft -f`). */
export function renderNftablesText(input: NftablesInput): string {
  checkInput(input);
  const has = (r: NodeRole) => input.roles.includes(r);
  const controlPlane = has('control-plane');
  const rules: string[] = [
    '        iif "lo" accept',
    '        ct state established,related accept',
  ];
  if (controlPlane) rules.push('        # kube-apiserver: clients and balancers', '        tcp dport 6443 accept');
  if (input.balancerPort !== undefined && has('lb'))
    rules.push('        # HAProxy in front of the API servers', `        tcp dport ${input.balancerPort} accept`);
  if (controlPlane) {
    rules.push(...onlyFrom('tcp dport 2379-2380', ['control_planes'], 'etcd: control planes only'));
    rules.push(...onlyFrom('tcp dport { 10257, 10259 }', ['control_planes'], 'controller-manager and scheduler'));
  }
  rules.push(...onlyFrom('tcp dport 10250', ['cluster_nodes', 'pod_network'], 'kubelet: nodes and pods (metrics, logs, exec)'));
  if (input.registryPort !== undefined && has('registry'))
    rules.push(...onlyFrom(`tcp dport ${input.registryPort}`, ['cluster_nodes', ...(input.adminAddress ? ['admin_host'] : [])], 'local image registry'));
  if (input.cni === 'calico') {
    rules.push(...onlyFrom('tcp dport 179', ['cluster_nodes'], 'Calico BGP'));
    rules.push(...onlyFrom('tcp dport 5473', ['cluster_nodes'], 'Calico Typha'));
  }
  if (input.cni === 'cilium') rules.push(...onlyFrom('tcp dport 4240', ['cluster_nodes'], 'Cilium health checks'));
  if (input.encapsulation.kind === 'ipip')
    rules.push(...onlyFrom('meta l4proto 4', ['cluster_nodes'], 'IP-in-IP (IP protocol 4, "ipencap"): pod traffic between nodes'));
  else rules.push(...onlyFrom(`udp dport ${input.encapsulation.port}`, ['cluster_nodes'], 'VXLAN: pod traffic between nodes'));
  if (has('lb') && input.balancers.length > 1)
    rules.push(...onlyFrom('ip protocol vrrp', ['balancers'], 'keepalived VRRP between the balancer hosts'));

  const lines = [
    '#!/usr/sbin/nft -f',
    "# Written by ferry. Only ferry's own table is touched: it is created if missing, deleted, and defined again in",
    '# one transaction, so re-applying converges and no other table or chain is flushed.',
    'table inet ferry',
    'delete table inet ferry',
    'table inet ferry {',
    ...set('cluster_nodes', input.nodes),
    ...set('control_planes', input.controlPlanes),
    ...set('balancers', input.balancers),
    ...set('pod_network', [input.podCidr], true),
    ...(input.adminAddress ? set('admin_host', [input.adminAddress]) : []),
    '',
    '    chain input {',
    '        type filter hook input priority filter; policy accept;',
    ...rules,
    '    }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * ferry-firewall.service loads ferry's table at boot and again whenever nftables.service (re)starts, since the
 * distributions' nftables.conf begins with `flush ruleset`; stopping it removes only ferry's table.
 */
export function renderNftablesUnit(): RenderedFile {
  return renderUnit(
    'ferry-firewall.service',
    {
      Unit: { Description: "ferry's nftables table (inet ferry)", After: 'nftables.service', PartOf: 'nftables.service', Before: 'kubelet.service' },
      Service: { Type: 'oneshot', RemainAfterExit: true, ExecStart: `/usr/sbin/nft -f ${NFTABLES_PATH}`, ExecStop: '/usr/sbin/nft delete table inet ferry' },
      Install: { WantedBy: ['multi-user.target', 'nftables.service'] },
    },
    'Written by ferry.',
  );
}

/** ferry's nftables file for one node. */
export function renderNftables(input: NftablesInput): RenderedFile {
  return renderedFile(NFTABLES_PATH, renderNftablesText(input), { verify: ['nft', '-c', '-f', STAGED_FILE] });
}
