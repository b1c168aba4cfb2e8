// Picks the install side of a node's OS family (package manager, repository): the family is the facts' (one table,
// src/facts/parse-system.ts: os-release ID, then ID_LIKE).
import { UserError } from '../../errors.ts';
import type { NodeFacts } from '../../facts/node.ts';
import { debianFamily } from './debian.ts';
import { elFamily } from './el.ts';
import type { OsFamily } from './family.ts';

/** The family for these facts, or a UserError naming the OS. */
export function pickFamily(host: string, facts: Pick<NodeFacts, 'os'>): OsFamily {
  if (facts.os.family === 'el') return elFamily;
  if (facts.os.family === 'debian') return debianFamily;
  throw new UserError(`${host}: ${facts.os.prettyName} (ID=${facts.os.id}) is not an OS ferry installs on`, {
    hint: 'ferry supports RHEL, Rocky and Alma Linux 8/9, Debian and Ubuntu',
  });
}

/**
 * Installed package names from listInstalled() output (`ii name` lines: dpkg's abbreviation, or rpm's forced to
 * match); `held`: also dpkg's `hi` (installed and held, as kubernetes-packages leaves kubeadm, kubelet and kubectl).
 */
export function parseInstalled(output: string, options: { held?: boolean } = {}): Set<string> {
  const out = new Set<string>();
  for (const line of output.split('\n')) {
    const m = /^(\S+)\s+(\S+)$/.exec(line.trim());
    if (m && (m[1] === 'ii' || (options.held && m[1] === 'hi'))) out.add(m[2]!.replace(/:[a-z0-9]+$/, ''));
  }
  return out;
}
