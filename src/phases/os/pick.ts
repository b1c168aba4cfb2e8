// Picks the OS family from a node's os-release: its ID, else the first known ID_LIKE.
import { UserError } from '../../errors.ts';
import type { NodeFacts } from '../parse-node-facts.ts';
import { debianFamily } from './debian.ts';
import { elFamily } from './el.ts';
import type { OsFamily } from './family.ts';

const BY_ID: Record<string, OsFamily> = {
  debian: debianFamily, ubuntu: debianFamily,
  rhel: elFamily, rocky: elFamily, almalinux: elFamily, centos: elFamily, fedora: elFamily,
};

/** The family for these facts, or a UserError naming the OS. */
export function pickFamily(host: string, facts: Pick<NodeFacts, 'os'>): OsFamily {
  for (const id of [facts.os.id, ...facts.os.idLike]) {
    const family = BY_ID[id];
    if (family) return family;
  }
  throw new UserError(`${host}: ${facts.os.prettyName} (ID=${facts.os.id}) is not an OS ferry installs on`, {
    hint: 'ferry supports RHEL, Rocky and Alma Linux 8/9, Debian and Ubuntu',
  });
}

/** Installed package names from listInstalled() output (`ii name` lines: dpkg's abbreviation, or rpm's forced to match). */
export function parseInstalled(output: string): Set<string> {
  const out = new Set<string>();
  for (const line of output.split('\n')) {
    const m = /^(\S+)\s+(\S+)$/.exec(line.trim());
    if (m && m[1] === 'ii') out.add(m[2]!.replace(/:[a-z0-9]+$/, ''));
  }
  return out;
}
