// Names and the environment: time sync state, hostname and DNS, proxy settings that would swallow cluster traffic.
import type { Facts } from '../facts/types.ts';
import { hostFinding, type Finding, type NodeCheck, type NodeContext } from './types.ts';

function timeSync(facts: Facts): Finding[] {
  const { ntpSynchronized } = facts.time;
  const chrony = 'point chrony at the site’s NTP server (server NTP-HOST iburst in /etc/chrony.conf) and systemctl enable --now chronyd';
  if (ntpSynchronized === true) return [hostFinding('time-sync', facts.host, 'pass', 'system clock is NTP-synchronized')];
  if (ntpSynchronized === false) return [hostFinding('time-sync', facts.host, 'warn', 'system clock is not NTP-synchronized (timedatectl: NTPSynchronized=no): certificates and etcd leases suffer when clocks drift', chrony)];
  return [hostFinding('time-sync', facts.host, 'warn', 'cannot tell whether the clock is synchronized (no timedatectl answer)', chrony)];
}

function hostnameDns(facts: Facts, ctx: NodeContext): Finding[] {
  const id = 'hostname-dns';
  const out: Finding[] = [];
  const name = facts.identity.hostname;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name))
    out.push(hostFinding(id, facts.host, 'fail', `hostname "${name}" is not a lowercase RFC 1123 name: kubelet cannot register it`, `hostnamectl set-hostname ${ctx.name}`));
  else if (name.split('.')[0] !== ctx.name)
    out.push(hostFinding(id, facts.host, 'warn', `hostname "${name}" differs from the inventory name "${ctx.name}": the node registers as "${name}"`, `hostnamectl set-hostname ${ctx.name}`));
  if (!facts.dns.hostResolves) {
    const address = ctx.address || facts.addresses.find((a) => a.iface === facts.defaultRouteIface)?.address || 'NODE-ADDRESS';
    out.push(hostFinding(id, facts.host, 'warn', `"${name}" does not resolve on the node`, `echo '${address} ${name}' >> /etc/hosts`));
  }
  const ns = facts.dns.nameservers;
  if (ns.length > 3) out.push(hostFinding(id, facts.host, 'warn', `${ns.length} nameservers in /etc/resolv.conf: glibc uses 3, kubelet warns and drops the rest`, 'keep at most 3 nameserver lines'));
  if (ns.length > 0 && ns.every((n) => n.startsWith('127.')))
    out.push(hostFinding(id, facts.host, 'warn', `/etc/resolv.conf points only at loopback (${ns.join(', ')}): CoreDNS would forward to itself`, 'set kubelet resolvConf to /run/systemd/resolve/resolv.conf (systemd-resolved) or a file with the site’s DNS servers'));
  if (out.length === 0) out.push(hostFinding(id, facts.host, 'pass', `hostname ${name} resolves; nameservers: ${ns.join(', ') || 'none (air-gapped: CoreDNS answers cluster names only)'}`));
  return out;
}

/** Whether NO_PROXY covers `needle` (exact, suffix .domain, or a CIDR written verbatim). */
function covered(noProxy: string[], needle: string): boolean {
  return noProxy.some((entry) => entry === needle || entry === '*' || (entry.startsWith('.') && needle.endsWith(entry)));
}

function proxy(facts: Facts, ctx: NodeContext): Finding[] {
  const set = Object.entries(facts.proxy).filter(([k]) => k.endsWith('http_proxy') || k.endsWith('https_proxy'));
  if (set.length === 0) return [hostFinding('proxy', facts.host, 'pass', 'no HTTP(S) proxy configured')];
  const noProxy = (facts.proxy.no_proxy ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const needs = [ctx.address, ctx.plan.podCidr, ctx.plan.serviceCidr, '.svc', '.cluster.local', ctx.plan.controlPlaneEndpoint.split(':')[0]!];
  const missing = needs.filter((n) => !covered(noProxy, n));
  if (missing.length === 0) return [hostFinding('proxy', facts.host, 'pass', 'a proxy is set and NO_PROXY covers the nodes, CIDRs and cluster domains')];
  return [hostFinding('proxy', facts.host, 'warn', `a proxy is set (${set.map(([k]) => k).join(', ')}) but NO_PROXY lacks: ${missing.join(', ')}`, `add them to NO_PROXY in /etc/environment and in a containerd drop-in (systemctl edit containerd: Environment="NO_PROXY=...")`)];
}

/** Time, naming and proxy checks, in report order. */
export const namingChecks: NodeCheck[] = [
  { id: 'time-sync', title: 'clock synchronized', run: timeSync },
  { id: 'hostname-dns', title: 'hostname and DNS', run: hostnameDns },
  { id: 'proxy', title: 'proxy settings', run: proxy },
];
