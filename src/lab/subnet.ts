// Pick a private /24 for a lab that no interface or route on this machine already uses, so two labs never collide.

/** An IPv4 CIDR as a 32-bit network number and prefix length. */
interface Cidr {
  base: number;
  bits: number;
}

function parseCidr(cidr: string): Cidr {
  const [addr, bits = '32'] = cidr.split('/');
  const n = addr!.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const b = Number(bits);
  const mask = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
  return { base: (n & mask) >>> 0, bits: b };
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((a.base & mask) >>> 0) === ((b.base & mask) >>> 0);
}

/** The first free 10.X.Y.0/24 (X in 200..254) at or after a random start; `used` holds CIDRs or plain addresses. */
export function pickFreeSubnet(used: readonly string[], random: number): string {
  const taken = used.filter((u) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(u)).map(parseCidr);
  const count = 55 * 256;
  const start = Math.floor(random * count) % count;
  for (let i = 0; i < count; i++) {
    const k = (start + i) % count;
    const cidr = `10.${200 + Math.floor(k / 256)}.${k % 256}.0/24`;
    if (!taken.some((t) => overlaps(t, parseCidr(cidr)))) return cidr;
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
