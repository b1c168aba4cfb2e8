// What firewalld must let through when a site keeps it running: the same openings as ferry's own nft table
// (nftables.ts), from the same input, written as one firewalld *policy* (ingress ANY → egress HOST, priority -100)
// plus the ipsets its rules name. A policy adds accepts without moving any address or interface out of the site's
// zones (a zone with sources would take every packet from those sources away from the zone the site chose), and a
// negative priority puts its rules before every zone's own rules and target, so a default zone of `drop` still
// lets the cluster through (firewalld.policies(5) and firewalld.policy(5) of firewalld 1.3.3; the dispatch was
// read from `nft list table inet firewalld` on a lab node: filter_IN_<zone> jumps to filter_INPUT_POLICIES_pre
// first). Every file is ferry's own (policies/ferry.xml, ipsets/ferry-*.xml), so reset removes exactly them.
import { renderedFile, STAGED_FILE, type RenderedFile } from './file.ts';
import { renderNftablesText, type NftablesInput } from './nftables.ts';

export const FIREWALLD_CONFIG_DIR = '/etc/firewalld';
export const FIREWALLD_POLICY = 'ferry';
export const FIREWALLD_POLICY_PATH = `${FIREWALLD_CONFIG_DIR}/policies/${FIREWALLD_POLICY}.xml`;
/** Negative: evaluated before the zones' rules and targets (policies of priority < 0 come first). */
export const FIREWALLD_POLICY_PRIORITY = -100;
/** ferry's ipsets are named `ferry-*`; nothing else of the site's may carry that prefix. */
export const FIREWALLD_IPSET_PREFIX = 'ferry-';

/** Where firewalld reads the ipset `name` from. */
export function ipsetPath(name: string): string {
  return `${FIREWALLD_CONFIG_DIR}/ipsets/${name}.xml`;
}

/** Who may send: anyone, the members of one of ferry's ipsets, or one address or CIDR. */
export type Source = { any: true } | { ipset: string } | { address: string };

/** One thing firewalld must accept: a TCP/UDP port (or range), or an IP protocol by number (4 IP-in-IP, 112 VRRP). */
export type Opening = ({ port: string; protocol: 'tcp' | 'udp' } | { ipProtocol: number }) & { from: Source; why: string };

const IPSETS = { nodes: 'ferry-nodes', controlPlanes: 'ferry-control-planes', balancers: 'ferry-balancers' } as const;

/**
 * What must be open on this node, in the order of ferry's nft table: the API (and the balancer port) from anyone,
 * etcd and the controller-manager/scheduler from control planes, kubelet from nodes and pods, the registry from
 * nodes and the admin host, the CNI's BGP/Typha/health ports, the encapsulation, VRRP between balancers.
 * Ports and protocols: Kubernetes "Ports and Protocols", Calico "Network requirements" (179/tcp, 5473/tcp,
 * IP protocol 4, 4789/udp), Cilium "Firewall rules" (4240/tcp, 8472/udp), keepalived (VRRP, IP protocol 112).
 */
export function firewalldOpenings(input: NftablesInput): Opening[] {
  // The nft renderer checks the input (addresses, CIDR, ports): one set of rules for both firewalls.
  renderNftablesText(input);
  const has = (r: NftablesInput['roles'][number]) => input.roles.includes(r);
  const nodes: Source = { ipset: IPSETS.nodes };
  const cps: Source = { ipset: IPSETS.controlPlanes };
  const out: Opening[] = [];
  const tcp = (port: string | number, from: Source, why: string) => out.push({ port: String(port), protocol: 'tcp', from, why });
  if (has('control-plane')) tcp(6443, { any: true }, 'kube-apiserver: clients and balancers');
  if (input.balancerPort !== undefined && has('lb')) tcp(input.balancerPort, { any: true }, 'HAProxy in front of the API servers');
  if (has('control-plane')) {
    tcp('2379-2380', cps, 'etcd: control planes only');
    tcp(10257, cps, 'kube-controller-manager');
    tcp(10259, cps, 'kube-scheduler');
  }
  tcp(10250, nodes, 'kubelet from nodes');
  tcp(10250, { address: input.podCidr }, 'kubelet from pods (metrics, logs, exec)');
  if (input.registryPort !== undefined && has('registry')) {
    tcp(input.registryPort, nodes, 'local image registry');
    if (input.adminAddress) tcp(input.registryPort, { address: input.adminAddress }, 'local image registry: the admin host seeds it');
  }
  if (input.cni === 'calico') {
    tcp(179, nodes, 'Calico BGP');
    tcp(5473, nodes, 'Calico Typha');
  }
  if (input.cni === 'cilium') tcp(4240, nodes, 'Cilium health checks');
  if (input.encapsulation.kind === 'ipip') out.push({ ipProtocol: 4, from: nodes, why: 'IP-in-IP (IP protocol 4, "ipencap"): pod traffic between nodes' });
  else out.push({ port: String(input.encapsulation.port), protocol: 'udp', from: nodes, why: 'VXLAN: pod traffic between nodes' });
  if (has('lb') && input.balancers.length > 1) out.push({ ipProtocol: 112, from: { ipset: IPSETS.balancers }, why: 'keepalived VRRP between the balancer hosts' });
  return out;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function ruleXml(o: Opening): string {
  const match = 'ipProtocol' in o ? `<protocol value="${o.ipProtocol}"/>` : `<port port="${o.port}" protocol="${o.protocol}"/>`;
  const source = 'ipset' in o.from ? `<source ipset="${o.from.ipset}"/>` : 'address' in o.from ? `<source address="${o.from.address}"/>` : '';
  return `  <rule family="ipv4">${source}${match}<accept/></rule>`;
}

/** The policy file: rules in a fixed order, one comment per rule saying why. */
export function renderFirewalldPolicyText(openings: readonly Opening[]): string {
  const body = openings.flatMap((o) => [`  <!-- ${xmlEscape(o.why)} -->`, ruleXml(o)]);
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<!-- Written by ferry: what the cluster needs through firewalld. ferry reset removes this file and the ferry-* ipsets. -->',
    `<policy target="CONTINUE" priority="${FIREWALLD_POLICY_PRIORITY}">`,
    '  <short>ferry</short>',
    '  <description>Kubernetes cluster traffic, as ferry installed it (the same openings as the nft table inet ferry).</description>',
    '  <ingress-zone name="ANY"/>',
    '  <egress-zone name="HOST"/>',
    ...body,
    '</policy>',
    '',
  ].join('\n');
}

function ipsetText(name: string, entries: readonly string[]): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<!-- Written by ferry. -->',
    '<ipset type="hash:ip">',
    `  <short>${name}</short>`,
    ...[...new Set(entries)].sort().map((e) => `  <entry>${e}</entry>`),
    '</ipset>',
    '',
  ].join('\n');
}

/**
 * The check run on a staged file before it replaces the live one: a copy of /etc/firewalld with the staged file in
 * its place, checked by `firewall-offline-cmd --system-config COPY --check-config` (nothing changes on the node;
 * firewalld's own check only warns about some errors, so any output fails it as well).
 */
export function firewalldVerify(path: string): string[] {
  const rel = path.slice(FIREWALLD_CONFIG_DIR.length + 1);
  const script = [
    'set -e', 'd=$(mktemp -d)', 'trap \'rm -rf "$d"\' EXIT', `cp -a ${FIREWALLD_CONFIG_DIR}/. "$d"/`, `install -D -m 0644 "$1" "$d/${rel}"`,
    'rc=0; out=$(firewall-offline-cmd --system-config "$d" --check-config 2>&1) || rc=$?',
    'if [ "$rc" -ne 0 ] || [ -n "$out" ]; then printf \'%s\\n\' "$out" >&2; exit 1; fi',
  ].join('\n');
  return ['sh', '-c', script, 'firewalld-check', STAGED_FILE];
}

/** How firewalld reports ferry's policy and ipsets once loaded (`firewall-cmd --info-policy=ferry`, `--info-ipset`): what the phase compares the running firewall with. */
export function firewalldRuntime(input: NftablesInput): { rules: string[]; ipsets: Record<string, string[]> } {
  const openings = firewalldOpenings(input);
  const rules = openings.map((o) => {
    const source = 'ipset' in o.from ? ` source ipset="${o.from.ipset}"` : 'address' in o.from ? ` source address="${o.from.address}"` : '';
    const match = 'ipProtocol' in o ? ` protocol value="${o.ipProtocol}"` : ` port port="${o.port}" protocol="${o.protocol}"`;
    return `rule family="ipv4"${source}${match} accept`;
  });
  const ipsets = Object.fromEntries(ipsetMembers(input, openings).map(([name, entries]) => [name, [...new Set(entries)].sort()]));
  return { rules, ipsets };
}

function ipsetMembers(input: NftablesInput, openings: readonly Opening[]): [string, readonly string[]][] {
  const named = new Set(openings.flatMap((o) => ('ipset' in o.from ? [o.from.ipset] : [])));
  const members: Record<string, readonly string[]> = { [IPSETS.nodes]: input.nodes, [IPSETS.controlPlanes]: input.controlPlanes, [IPSETS.balancers]: input.balancers };
  return Object.values(IPSETS).filter((n) => named.has(n)).map((n) => [n, members[n]!]);
}

/** ferry's firewalld files for one node: the ipsets its policy names first (the policy's check needs them), then the policy. */
export function renderFirewalld(input: NftablesInput): RenderedFile[] {
  const openings = firewalldOpenings(input);
  const ipsets = ipsetMembers(input, openings).map(([n, entries]) => renderedFile(ipsetPath(n), ipsetText(n, entries), { verify: firewalldVerify(ipsetPath(n)) }));
  return [...ipsets, renderedFile(FIREWALLD_POLICY_PATH, renderFirewalldPolicyText(openings), { verify: firewalldVerify(FIREWALLD_POLICY_PATH) })];
}
