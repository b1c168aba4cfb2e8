// Parsers for the network sections of gather.sh: links, addresses, listeners, iptables backends, DNS, proxy.
import type { Facts, Ipv4Address, Listener, NetLink } from './types.ts';
import { firstLine, linesOf, type Section } from './sections.ts';
import { parseFirewalld } from './parse-firewalld.ts';

type Sections = Map<string, Section>;

/** `name mtu mac state` lines from /sys/class/net. */
export function parseLinks(lines: readonly string[]): NetLink[] {
  return lines
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[1]!))
    .map((f) => ({ name: f[0]!, mtu: Number(f[1]), mac: f[2]!.toLowerCase(), state: f[3] ?? 'unknown' }));
}

/** `ip -o -4 addr show` lines, e.g. `2: eth0    inet 10.0.0.5/24 brd ... scope global eth0`. */
export function parseAddresses(lines: readonly string[]): Ipv4Address[] {
  const out: Ipv4Address[] = [];
  for (const line of lines) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(line.trim());
    if (m) out.push({ iface: m[1]!.replace(/@.*$/, ''), address: m[2]!, prefix: Number(m[3]) });
  }
  return out;
}

/** Local address column of `ss -Htln`: `0.0.0.0:22`, `[::]:22`, `*:80`, `127.0.0.53%lo:53`. */
export function parseListeners(lines: readonly string[]): Listener[] {
  const out: Listener[] = [];
  for (const line of lines) {
    const local = line.trim().split(/\s+/)[3];
    const m = local ? /^(.*):(\d+)$/.exec(local) : null;
    if (m) out.push({ address: m[1]!.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, ''), port: Number(m[2]) });
  }
  return out;
}

/** `iptables v1.8.9 (nf_tables)` → version and mode; `iptables v1.4.21` (no mode) is legacy. */
export function parseIptablesVersion(line: string | undefined): { version: string | undefined; mode: 'nf_tables' | 'legacy' | undefined } {
  const m = /iptables v(\d+(?:\.\d+)*)(?:\s+\(([^)]+)\))?/.exec(line ?? '');
  if (!m) return { version: undefined, mode: undefined };
  return { version: m[1], mode: m[2] === 'nf_tables' ? 'nf_tables' : 'legacy' };
}

/** Rules in iptables-save output: the `-A` lines. */
export function countRules(lines: readonly string[]): number {
  return lines.filter((l) => l.startsWith('-A ')).length;
}

/** The client address of `$SSH_CLIENT` ("ADDR PORT PORT", sshd(8)), when it is an IPv4 address. */
export function sshClientAddress(text: string | undefined): string | undefined {
  const first = text?.trim().split(/\s+/)[0] ?? '';
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(first) ? first : undefined;
}

/** The interface whose IPv4 address is `address`. */
export function interfaceOf(addresses: readonly Ipv4Address[], address: string): string | undefined {
  return addresses.find((a) => a.address === address)?.iface;
}

/** The network half of Facts. */
export function parseNetwork(sections: Sections) {
  const route = /\bdev\s+(\S+)/.exec(firstLine(sections, 'default-route') ?? '');
  const resolv = linesOf(sections, 'resolv-conf').map((l) => l.trim().split(/\s+/));
  const lookup = linesOf(sections, 'host-lookup').map((l) => l.trim().split(/\s+/)[0]!);
  const proxy: Record<string, string> = {};
  for (const line of linesOf(sections, 'proxy')) {
    const i = line.indexOf('=');
    if (i > 0) proxy[line.slice(0, i).toLowerCase()] = line.slice(i + 1).replace(/^"|"$/g, '');
  }
  const backend = /^FirewallBackend\s*=\s*(\S+)/.exec(firstLine(sections, 'firewalld-backend') ?? '');
  return {
    links: parseLinks(linesOf(sections, 'links')),
    addresses: parseAddresses(linesOf(sections, 'addresses')),
    defaultRouteIface: route?.[1],
    listeners: parseListeners(linesOf(sections, 'ports')),
    iptables: {
      ...parseIptablesVersion(firstLine(sections, 'iptables-version')),
      legacyRules: countRules(linesOf(sections, 'iptables-legacy')),
      nftRules: countRules(linesOf(sections, 'iptables-nft')),
      nftTables: linesOf(sections, 'nft-tables').map((l) => l.trim().replace(/^table\s+/, '')),
      firewalldBackend: backend?.[1],
    },
    dns: {
      nameservers: resolv.filter((f) => f[0] === 'nameserver').map((f) => f[1]!).filter(Boolean),
      search: resolv.filter((f) => f[0] === 'search').flatMap((f) => f.slice(1)),
      hostResolves: lookup.length > 0,
      hostAddresses: lookup,
    },
    firewalld: parseFirewalld(linesOf(sections, 'firewalld')),
    proxy,
    networkManagerUnmanaged: linesOf(sections, 'nm-unmanaged').map((l) => l.trim()),
    adminAddress: sshClientAddress(firstLine(sections, 'ssh-client')),
  } satisfies Partial<Facts>;
}
