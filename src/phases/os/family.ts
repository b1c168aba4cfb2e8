// What differs between the OS families ferry installs on, behind one small interface: the package manager and
// its offline repository, the package names, and SELinux. Debian/Ubuntu and Enterprise Linux (RHEL, Rocky, Alma).
import type { RenderedFile } from '../../render/file.ts';

/** A command with the environment it needs (package managers must never prompt). */
export interface FamilyCommand {
  argv: string[];
  env?: Record<string, string>;
}

export interface OsFamily {
  readonly id: 'debian' | 'el';
  /** The repository file that points the package manager at the bundle's repo on the node. */
  repoFile(repoDir: string, options: { gpgKeys: readonly string[] }): RenderedFile;
  /** Refresh the metadata of ferry's repository only. */
  refresh(): FamilyCommand;
  /** Install from ferry's repository only (every other source disabled: nodes have no network). */
  install(packages: readonly string[]): FamilyCommand;
  /** Remove packages and their configuration. */
  remove(packages: readonly string[]): FamilyCommand;
  /** Lists installed package names, one a line (read-only). */
  listInstalled(): string[];
  /** Package names of a component on this family (load-balancer: HAProxy, keepalived and the check's curl). */
  packages(component: 'container-runtime' | 'load-balancer'): string[];
  /** Whether SELinux may be present (EL). */
  readonly selinux: boolean;
}

/** Where ferry keeps what it did on a node (package lists for reset, staging). */
export const FERRY_STATE_DIR = '/var/lib/ferry';
/** Packages a phase installed, one name a line, so reset removes exactly those. */
export const installedListPath = (phase: string) => `${FERRY_STATE_DIR}/packages/${phase}.list`;
