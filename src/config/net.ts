// IPv4 addresses, CIDRs and HOST:PORT as inputs name them: parsed once, compared as 32-bit numbers. Pure.
// node:net's isIPv4 decides what an address is (no leading zeros, each octet 0-255); the range arithmetic is a few
// lines of integer math, so no library is needed for it.
import { isIPv4 } from 'node:net';

/** An IPv4 network: first address and prefix length. */
export interface Cidr {
  text: string;
  first: number;
  prefix: number;
}

/** The address as an unsigned 32-bit number, or undefined when it is not a dotted-quad IPv4 address. */
export function ipv4Number(address: string): number | undefined {
  if (!isIPv4(address)) return undefined;
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** Parses `a.b.c.d/n`; returns the network or why it is not one (host bits set, prefix beyond 32, ...). */
export function parseCidr(text: string): Cidr | { error: string } {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return { error: 'must be an IPv4 CIDR such as 10.244.0.0/16' };
  const first = ipv4Number(m[1]!);
  if (first === undefined) return { error: `${m[1]} is not an IPv4 address (four numbers 0-255)` };
  const prefix = Number(m[2]);
  if (prefix > 32) return { error: `prefix /${prefix} is beyond /32` };
  const c = { text, first, prefix };
  if (first % size(c) !== 0) return { error: `host bits are set: the network is ${formatIpv4(first - (first % size(c)))}/${prefix}` };
  return c;
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function cidrContains(c: Cidr, address: number): boolean {
  return address >= c.first && address < c.first + size(c);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b.first) || cidrContains(b, a.first);
}

/** `HOST:PORT` split; the port is a number (possibly out of range, for the caller to say so). */
export function splitHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^([^:\s]+):(\d{1,6})$/.exec(text);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

/** `user@host:port` (user and port optional) as in `ssh.bastion`; undefined when it is not that. */
export function parseBastionSpec(spec: string): { user?: string; host: string; port: number } | undefined {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d+))?$/.exec(spec);
  const port = m?.[3] === undefined ? 22 : Number(m[3]);
  if (!m || port < 1 || port > 65535) return undefined;
  return { ...(m[1] ? { user: m[1] } : {}), host: m[2]!.replace(/^\[|\]$/g, ''), port };
}
