// Services on the node that get in the way: firewalld/ufw, SELinux and fapolicyd (EL), NetworkManager on CNI devices.
import type { Facts } from '../facts/types.ts';
import { acceptedBy, describeNeed, firewallCmdFix, firewalldNeeds, zoneFor } from './firewalld.ts';
import { hostFinding, type Finding, type NodeCheck, type NodeContext } from './types.ts';

const active = (facts: Facts, unit: string) => facts.services[unit] === 'active';

function firewall(facts: Facts, ctx: NodeContext): Finding[] {
  const out: Finding[] = [];
  if (active(facts, 'firewalld')) out.push(firewalldFinding(facts, ctx));
  if (active(facts, 'ufw')) out.push(hostFinding('firewall', facts.host, 'warn', 'ufw is active: it must allow the cluster ports and protocol 4', 'ufw disable, or ufw allow the cluster ports and proto ipencap'));
  if (out.length === 0) out.push(hostFinding('firewall', facts.host, 'pass', 'neither firewalld nor ufw is active (the pairwise probes test the nftables rules themselves)'));
  return out;
}

/** firewalld running: pass when every port and protocol the cluster needs here is accepted from the peers that need it. */
function firewalldFinding(facts: Facts, ctx: NodeContext): Finding {
  const backend = facts.iptables.firewalldBackend ? ` (FirewallBackend=${facts.iptables.firewalldBackend})` : '';
  const config = facts.firewalld;
  if (!config)
    return hostFinding('firewall', facts.host, 'warn', `firewalld is active${backend}, but its configuration could not be read (firewall-cmd missing or not root): it must let the cluster ports and IP protocol 4 / UDP VXLAN through`, 'ferry install opens them through firewalld (policy ferry); or run doctor as root to see what is missing');
  const self = { name: ctx.name, address: ctx.address, roles: ctx.roles };
  const peers = ctx.peers ?? [self];
  const iface = facts.addresses.find((a) => a.address === ctx.address)?.iface;
  const needs = firewalldNeeds(self, peers, ctx.plan);
  const missing = needs.flatMap((n) => {
    const closed = n.from.filter((p) => !acceptedBy(config, n.what, p.address, iface));
    return closed.length > 0 ? [{ ...n, from: closed }] : [];
  });
  const zone = zoneFor(config, peers.find((p) => p.name !== ctx.name)?.address ?? ctx.address, iface);
  const where = `default zone ${config.defaultZone}${zone && zone.name !== config.defaultZone ? `, peers fall into zone ${zone.name}` : ''}`;
  if (missing.length === 0)
    return hostFinding('firewall', facts.host, 'pass', `firewalld is active${backend} (${where}) and lets in all ${needs.length} ports and protocols the cluster needs here`);
  const list = missing.map((n) => `${describeNeed(n.what)} (${n.service}) from ${n.from.map((p) => p.name).join(', ')}`).join('; ');
  return hostFinding('firewall', facts.host, 'warn', `firewalld is active${backend} (${where}) and turns away ${list}`,
    `ferry install opens them through firewalld (its firewalld phase writes the policy ferry and the ferry-* ipsets); by hand: ${firewallCmdFix(missing)}`);
}

function securityPolicy(facts: Facts, ctx: NodeContext): Finding[] {
  const id = 'security-policy';
  if (facts.os.family !== 'el') {
    const nm = networkManager(facts, ctx);
    return nm.length > 0 ? nm : [hostFinding(id, facts.host, 'pass', `not Enterprise Linux (${facts.os.prettyName}): no SELinux or fapolicyd to check`)];
  }
  const out: Finding[] = [];
  const mode = facts.selinux ?? 'unknown';
  const policy = ctx.selinux ?? 'permissive';
  const withPackage = facts.elPackages['container-selinux'] === true;
  const keep = 'to keep it enforcing set selinux: enforcing in the inventory (install then adds container-selinux from the bundle), or selinux: leave';
  if (mode !== 'Enforcing') out.push(hostFinding(id, facts.host, 'pass', `SELinux ${mode}${withPackage ? ', container-selinux installed' : ''}`));
  else if (policy === 'permissive')
    out.push(hostFinding(id, facts.host, 'warn', 'SELinux is enforcing: install will set it permissive, now and in /etc/selinux/config (inventory selinux: permissive, the default, as kubeadm advises)', keep));
  else if (policy === 'enforcing')
    out.push(hostFinding(id, facts.host, 'pass', `SELinux Enforcing, kept (selinux: enforcing)${withPackage ? ', container-selinux installed' : '; install adds container-selinux from the bundle'}`));
  else if (!withPackage)
    out.push(hostFinding(id, facts.host, 'fail', 'SELinux is enforcing, container-selinux is not installed, and the inventory says selinux: leave: containers cannot start', 'set selinux: enforcing (install adds container-selinux from the bundle) or selinux: permissive, or install container-selinux yourself'));
  else out.push(hostFinding(id, facts.host, 'warn', 'SELinux is enforcing and the inventory says selinux: leave: ferry changes nothing (container-selinux is installed)', 'nothing to do if the site runs enforcing on purpose; selinux: enforcing says so without this warning'));
  if (active(facts, 'fapolicyd'))
    out.push(hostFinding(id, facts.host, 'warn', 'fapolicyd is active: it can block container runtimes and the NVIDIA driver installer from executing', 'add trust rules for /usr/bin/containerd*, /usr/bin/runc, /var/lib/containerd, or systemctl disable --now fapolicyd'));
  return [...out, ...networkManager(facts, ctx)];
}

function networkManager(facts: Facts, ctx: NodeContext): Finding[] {
  if (!active(facts, 'NetworkManager') || ctx.plan.cni !== 'calico') return [];
  const conf = facts.networkManagerUnmanaged.join(' ');
  if (/cali/.test(conf) && /tunl/.test(conf)) return [];
  return [hostFinding('security-policy', facts.host, 'warn', 'NetworkManager is active and does not leave Calico’s devices alone: it can take over cali*, tunl* and vxlan.calico', 'printf "[keyfile]\\nunmanaged-devices=interface-name:cali*;interface-name:tunl*;interface-name:vxlan.calico;interface-name:vxlan-v6.calico\\n" > /etc/NetworkManager/conf.d/calico.conf && systemctl reload NetworkManager')];
}

/** The host-service checks, in report order. */
export const hostServiceChecks: NodeCheck[] = [
  { id: 'firewall', title: 'firewalld / ufw', run: firewall },
  { id: 'security-policy', title: 'SELinux, fapolicyd, NetworkManager', run: securityPolicy },
];
