// Parser for gather.sh's `packages` section (asked for by `ferry doctor --site-out`): every installed package as
// name, version and arch, from `dpkg-query -W` or `rpm -qa --qf`.
import type { InstalledPackages } from './types.ts';
import { linesOf, type Section } from './sections.ts';

/** What a package manager may call a package, a version and an arch (Debian policy 5.6.1/5.6.12, rpm's naming). */
export const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9+._-]*$/;
export const PACKAGE_VERSION = /^[A-Za-z0-9][A-Za-z0-9.+~:^_-]*$/;
export const PACKAGE_ARCH = /^[a-z0-9_]+$/;

/**
 * The installed packages, or undefined when the section was not asked for (or the node has neither dpkg nor rpm).
 * dpkg lines keep only installed packages (status abbreviation `?i`: not `rc`, config files left by a removal);
 * rpm's gpg-pubkey pseudo-packages (arch `(none)`) are keys, not packages; a line with characters no package name,
 * version or arch has is dropped rather than passed on.
 */
export function parseInstalledPackages(sections: Map<string, Section>): InstalledPackages | undefined {
  const lines = linesOf(sections, 'packages');
  const manager = /^manager (dpkg|rpm)$/.exec(lines[0]?.trim() ?? '')?.[1] as 'dpkg' | 'rpm' | undefined;
  if (!manager) return undefined;
  const packages: InstalledPackages['packages'] = [];
  for (const line of lines.slice(1)) {
    const f = line.split('\t');
    const [name, version, arch] = manager === 'dpkg' ? (/^.i/.test(f[0] ?? '') ? f.slice(1) : []) : f;
    if (!name || !version || !arch || name === 'gpg-pubkey') continue;
    if (!PACKAGE_NAME.test(name) || !PACKAGE_VERSION.test(version) || !PACKAGE_ARCH.test(arch)) continue;
    packages.push({ name, version, arch });
  }
  packages.sort((a, b) => (a.name === b.name ? (a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0) : a.name < b.name ? -1 : 1));
  return { manager, packages };
}
