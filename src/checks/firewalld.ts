// Whether a running firewalld lets the cluster in: for each port (or IP protocol) this node must accept and each
// peer that must reach it, the zone the peer's packets fall into (a zone whose sources hold the peer, else the zone
// bound to the node's interface, else the default zone) and every policy from ANY or that zone to HOST are read for
// an accept (target ACCEPT, ports, protocols, services, rich rules with a matching source). Pure: it reads the
// config doctor gathered (facts/parse-firewalld.ts). Deny rules are not weighed: a site that denies on purpose
// sees its own rule in `firewall-cmd --list-all`.
import { cidrContains, ipv4Number, parseCidr } from '../config/net.ts';
import type { Role } from '../config/inventory.ts';
import type { FirewalldConfig, FirewalldRichRule, FirewalldTarget } from '../facts/parse-firewalld.ts';
import { LOCAL_REGISTRY } from '../registry/local-name.ts';
import { portsFor, vxlanPort } from './ports-plan.ts';
import type { Plan } from './types.ts';

/** Something the node must accept from some peers: a TCP/UDP port, or an IP protocol by number. */
export interface FirewalldNeed {
  what: { port: number; protocol: 'tcp' | 'udp' } | { ipProtocol: number };
  service: string;
  from: readonly { name: string; address: string }[];
}

export interface Peer {
  name: string;
  address: string;
  roles: readonly Role[];
}

/** Names /etc/protocols gives the numbers ferry opens (`ipip` is 94 there, not 4). */
const PROTOCOL_NAMES: Record<number, string> = { 4: 'ipencap', 112: 'vrrp' };

/** What this node must accept, from whom: the ports the pairwise probes test, the registry on its hosts, the encapsulation. */
export function firewalldNeeds(self: Peer, peers: readonly Peer[], plan: Plan): FirewalldNeed[] {
  const others = peers.filter((p) => p.name !== self.name);
  const from = (roles: readonly string[]) => others.filter((p) => roles.includes('any') || p.roles.some((r) => roles.includes(r)));
  const needs: FirewalldNeed[] = portsFor(self.roles, plan)
    .filter((p) => !p.localOnly)
    .map((p) => ({ what: { port: p.port, protocol: 'tcp' as const }, service: p.service, from: from(p.from) }));
  const registryHosts = peers.some((p) => p.roles.includes('registry')) ? peers.filter((p) => p.roles.includes('registry')) : peers.filter((p) => p.roles.includes('control-plane'));
  if (registryHosts.some((p) => p.name === self.name)) needs.push({ what: { port: LOCAL_REGISTRY.port, protocol: 'tcp' }, service: 'local image registry', from: others });
  if (plan.encapsulation !== 'vxlan') needs.push({ what: { ipProtocol: 4 }, service: 'IP-in-IP (protocol 4)', from: others });
  if (plan.encapsulation !== 'ipip') needs.push({ what: { port: vxlanPort(plan.cni), protocol: 'udp' }, service: 'VXLAN', from: others });
  return needs.filter((n) => n.from.length > 0);
}

function inSource(source: string, address: string, ipsets: FirewalldConfig['ipsets']): boolean {
  if (source.startsWith('ipset:')) return (ipsets[source.slice('ipset:'.length)] ?? []).some((e) => inSource(e, address, ipsets));
  const n = ipv4Number(address);
  if (n === undefined) return false;
  const cidr = parseCidr(source.includes('/') ? source : `${source}/32`);
  return 'first' in cidr ? cidrContains(cidr, n) : false;
}

function portCovers(entry: string, what: FirewalldNeed['what']): boolean {
  if ('ipProtocol' in what) return false;
  const [range, proto] = entry.split('/');
  const [lo, hi = lo] = (range ?? '').split('-').map(Number);
  return proto === what.protocol && lo! <= what.port && what.port <= hi!;
}

function protocolCovers(value: string, what: FirewalldNeed['what']): boolean {
  return 'ipProtocol' in what && (value === String(what.ipProtocol) || value === PROTOCOL_NAMES[what.ipProtocol]);
}

function serviceCovers(name: string, what: FirewalldNeed['what'], config: FirewalldConfig): boolean {
  const s = config.services[name];
  return !!s && (s.ports.some((p) => portCovers(p, what)) || s.protocols.some((p) => protocolCovers(p, what)));
}

function ruleAccepts(rule: FirewalldRichRule, what: FirewalldNeed['what'], address: string, config: FirewalldConfig): boolean {
  if (rule.action !== 'accept' || rule.family === 'ipv6') return false;
  if (rule.source) {
    const hit = inSource('ipset' in rule.source ? `ipset:${rule.source.ipset}` : rule.source.address, address, config.ipsets);
    if (hit === rule.sourceInverted) return false;
  }
  const m = rule.match;
  if (!m) return true;
  if ('port' in m) return portCovers(`${m.port}/${m.protocol}`, what);
  if ('service' in m) return serviceCovers(m.service, what, config);
  return protocolCovers(m.protocol, what);
}

function accepts(t: FirewalldTarget, what: FirewalldNeed['what'], address: string, config: FirewalldConfig): boolean {
  return t.target === 'ACCEPT' || t.ports.some((p) => portCovers(p, what)) || t.protocols.some((p) => protocolCovers(p, what))
    || t.services.some((s) => serviceCovers(s, what, config)) || t.richRules.some((r) => ruleAccepts(r, what, address, config));
}

/** The zone a packet from `address` arriving on `iface` falls into: by source first, then by interface, then the default. */
export function zoneFor(config: FirewalldConfig, address: string, iface: string | undefined): FirewalldTarget | undefined {
  const bySource = config.zones.find((z) => z.sources.some((s) => inSource(s, address, config.ipsets)));
  const byIface = iface ? config.zones.find((z) => z.interfaces.includes(iface)) : undefined;
  return bySource ?? byIface ?? config.zones.find((z) => z.name === config.defaultZone);
}

/** Where an accept was found, or undefined when firewalld would turn the packet away. */
export function acceptedBy(config: FirewalldConfig, what: FirewalldNeed['what'], address: string, iface: string | undefined): string | undefined {
  const zone = zoneFor(config, address, iface);
  const policies = config.policies
    .filter((p) => (p.egressZones ?? []).includes('HOST') && (p.ingressZones ?? []).some((z) => z === 'ANY' || z === zone?.name))
    .sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
  const policy = policies.find((p) => accepts(p, what, address, config));
  if (policy) return `policy ${policy.name}`;
  if (zone && accepts(zone, what, address, config)) return `zone ${zone.name}`;
  return undefined;
}

/** `6443/tcp` or `protocol 4`. */
export function describeNeed(what: FirewalldNeed['what']): string {
  return 'ipProtocol' in what ? `protocol ${what.ipProtocol}` : `${what.port}/${what.protocol}`;
}

/** The firewall-cmd lines that open what is missing, as a zone-independent policy (what ferry install writes, by hand). */
export function firewallCmdFix(missing: readonly FirewalldNeed[]): string {
  const rules = missing.flatMap((n) => {
    const match = 'ipProtocol' in n.what ? `protocol value="${n.what.ipProtocol}"` : `port port="${n.what.port}" protocol="${n.what.protocol}"`;
    return [...new Set(n.from.map((p) => p.address))].map((a) => `firewall-cmd --permanent --policy=ferry --add-rich-rule='rule family="ipv4" source address="${a}" ${match} accept'`);
  });
  return [
    'firewall-cmd --permanent --new-policy=ferry', 'firewall-cmd --permanent --policy=ferry --set-priority=-100',
    'firewall-cmd --permanent --policy=ferry --add-ingress-zone=ANY', 'firewall-cmd --permanent --policy=ferry --add-egress-zone=HOST',
    ...rules, 'firewall-cmd --reload',
  ].join('; ');
}
