// Pick a private /24 for a lab that no interface or route on this machine already uses, so two labs never collide.
import { cidrsOverlap, ipv4Number, type Cidr } from '../config/net.ts';

/** A CIDR or a plain address as `ip -j` reports them (host bits allowed, masked off); undefined if not IPv4. */
function looseCidr(text: string): Cidr | undefined {
  const [addr, bits = '32'] = text.split('/');
  const n = ipv4Number(addr!);
  const prefix = Number(bits);
  if (n === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  return { text, first: n - (n % 2 ** (32 - prefix)), prefix };
}

/** The inventory's default pod network (src/config/inventory.ts): lab nodes inside it would be refused. */
const RESERVED = ['10.244.0.0/16'];

/** The first free 10.X.Y.0/24 (X in 200..254) at or after a random start; `used` holds CIDRs or plain addresses. */
export function pickFreeSubnet(used: readonly string[], random: number): string {
  const taken = [...used, ...RESERVED].flatMap((u) => looseCidr(u) ?? []);
  const count = 55 * 256;
  const start = Math.floor(random * count) % count;
  for (let i = 0; i < count; i++) {
    const k = (start + i) % count;
    const cidr = `10.${200 + Math.floor(k / 256)}.${k % 256}.0/24`;
    if (!taken.some((t) => cidrsOverlap(t, looseCidr(cidr)!))) return cidr;
  }
  throw new Error('no free 10.200-254.x.0/24 subnet left on this machine');
}

/** The address of host `index` in a /24 (`.1` is the bridge, nodes start at `.11`). */
export function addressIn(subnet: string, index: number): string {
  const [a, b, c] = subnet.split('.');
  return `${a}.${b}.${c}.${index}`;
}

/** CIDRs in use according to `ip -j addr` and `ip -j route` output (JSON from iproute2). */
export function usedCidrs(ipAddrJson: string, ipRouteJson: string): string[] {
  const addrs = JSON.parse(ipAddrJson) as { addr_info?: { family: string; local: string; prefixlen: number }[] }[];
  const routes = JSON.parse(ipRouteJson) as { dst: string }[];
  return [
    ...addrs.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)),
    ...routes.map((r) => r.dst).filter((d) => d !== 'default'),
  ];
}
