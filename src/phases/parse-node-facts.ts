// Turns the output of the preflight facts script into typed facts. Pure: text in, facts out.
import { UserError } from '../errors.ts';

/** What later phases need to know about a node, read once by preflight (or on first use). */
export interface NodeFacts {
  os: { id: string; idLike: string[]; versionId: string; prettyName: string };
  kernel: string;
  /** `uname -m`, e.g. x86_64, aarch64. */
  machine: string;
  /** The interface that carries the node's inventory address (keepalived binds the VIP there). */
  interface: string | undefined;
  /** The admin host's address as the node sees it ($SSH_CLIENT of ferry's session), when the shell has it. */
  adminAddress?: string;
}

/** The section markers the facts script prints between its parts. */
export const FACT_SECTIONS = ['os-release', 'kernel', 'machine', 'addresses'] as const;

/** Parses os-release(5) text: KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^".*"$|^'.*'$/.test(v)) v = v.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    out[m[1]!] = v;
  }
  return out;
}

/** The interface whose IPv4 address is `address`, from `ip -o -4 addr show` lines. */
export function interfaceOf(ipAddrLines: string, address: string): string | undefined {
  for (const line of ipAddrLines.split('\n')) {
    const m = /^\d+:\s+(\S+?)(@\S+)?\s+inet\s+([\d.]+)\//.exec(line.trim());
    if (m && m[3] === address) return m[1];
  }
  return undefined;
}

/** The client address of `$SSH_CLIENT` ("ADDR PORT PORT"), when it is an IPv4 address. */
export function sshClientAddress(text: string | undefined): { adminAddress?: string } {
  const first = text?.trim().split(/\s+/)[0] ?? '';
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(first) ? { adminAddress: first } : {};
}

/** Splits script output at `==ferry:NAME==` marker lines into NAME → text (shared by every facts script). */
export function markedSections(output: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of output.split('\n')) {
    const m = /^==ferry:([a-z-]+)==$/.exec(line);
    if (m) {
      current = m[1]!;
      out.set(current, '');
    } else if (current) out.set(current, `${out.get(current)}${line}\n`);
  }
  return out;
}

/** Facts from the script output; `address` is the node's inventory address. */
export function parseNodeFacts(host: string, output: string, address: string): NodeFacts {
  const s = markedSections(output);
  const missing = FACT_SECTIONS.filter((k) => !s.has(k));
  if (missing.length > 0) throw new UserError(`${host}: the facts script printed no ${missing.join(', ')}`);
  const os = parseOsRelease(s.get('os-release')!);
  if (!os.ID) throw new UserError(`${host}: /etc/os-release names no ID`, { hint: 'ferry supports RHEL, Rocky, Alma 8/9, Debian and Ubuntu' });
  return {
    os: { id: os.ID, idLike: (os.ID_LIKE ?? '').split(/\s+/).filter(Boolean), versionId: os.VERSION_ID ?? '', prettyName: os.PRETTY_NAME ?? os.ID },
    kernel: s.get('kernel')!.trim(),
    machine: s.get('machine')!.trim(),
    interface: interfaceOf(s.get('addresses')!, address),
    ...sshClientAddress(s.get('ssh-client')),
  };
}
