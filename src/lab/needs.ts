// What the lab needs from this machine (root, systemd-nspawn, debootstrap and the tools it drives), checked up front
// so `ferry demo` and lab tests fail with one message naming everything missing instead of a spawn error later.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program the lab runs, and the Debian package that provides it. */
export const LAB_PROGRAMS: readonly { program: string; debianPackage: string }[] = [
  { program: 'systemd-nspawn', debianPackage: 'systemd-container' },
  { program: 'debootstrap', debianPackage: 'debootstrap' },
  { program: 'nsenter', debianPackage: 'util-linux' },
  { program: 'ip', debianPackage: 'iproute2' },
  { program: 'nft', debianPackage: 'nftables' },
  { program: 'ssh', debianPackage: 'openssh-client' },
  { program: 'ssh-keygen', debianPackage: 'openssh-client' },
  { program: 'ssh-keyscan', debianPackage: 'openssh-client' },
  { program: 'tar', debianPackage: 'tar' },
];

export interface LabMachineFacts {
  uid: number;
  /** Programs of LAB_PROGRAMS found on PATH. */
  found: readonly string[];
}

/** What is missing for the lab, one line each (empty: the lab can run); pure, for table tests. */
export function missingLabNeeds(facts: LabMachineFacts): string[] {
  const out: string[] = [];
  if (facts.uid !== 0) out.push(`root (running as uid ${facts.uid}): the lab creates bridges, cgroups and nspawn machines`);
  const missing = LAB_PROGRAMS.filter((p) => !facts.found.includes(p.program));
  const packages = [...new Set(missing.map((p) => p.debianPackage))];
  if (missing.length > 0)
    out.push(`${missing.map((p) => p.program).join(', ')} (apt-get install ${packages.join(' ')}; or bash scripts/setup.sh)`);
  return out;
}

/** The facts missingLabNeeds judges, read from this process and its PATH. */
export function labMachineFacts(env: Readonly<Record<string, string | undefined>> = process.env): LabMachineFacts {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin'];
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  return {
    uid: process.getuid?.() ?? -1,
    found: LAB_PROGRAMS.map((p) => p.program).filter((name) => dirs.some((d) => executable(join(d, name)))),
  };
}
