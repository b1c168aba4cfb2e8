// The site file from what doctor gathered: the one bridge from the air-gapped side's real hosts to the internet
// side's bundle build. Pure, and built field by field from an allow-list, so nothing else a node or the inventory
// holds (addresses, SSH users and keys, proxies, hostnames, machine ids, findings) can reach the file.
import { packageSetSha256, SITE_API_VERSION, type PackageSet, type SiteFile, type SiteNode } from '../config/site.ts';
import type { Gathered } from './model.ts';

export interface SiteInput {
  cluster: string | undefined;
  generatedAt: Date;
  gathered: readonly Gathered[];
}

/** The site file for the reachable hosts (unreachable ones are named, nothing more). */
export function buildSiteFile(input: SiteInput): SiteFile {
  const nodes: SiteNode[] = [];
  const packageSets: Record<string, PackageSet> = {};
  const unreachable: string[] = [];
  for (const g of input.gathered) {
    if (!('facts' in g)) {
      unreachable.push(g.name);
      continue;
    }
    const f = g.facts;
    let packages: string | undefined;
    if (f.packages) {
      const set: PackageSet = { manager: f.packages.manager, packages: f.packages.packages.map(({ name, version, arch }) => ({ name, version, arch })) };
      packages = packageSetSha256(set);
      packageSets[packages] = set;
    }
    nodes.push({
      name: g.name,
      roles: [...g.roles],
      os: { id: f.os.id, versionId: f.os.versionId, family: f.os.family },
      arch: f.kernel.arch,
      kernel: f.kernel.release,
      gpus: f.gpu.devices.length,
      ...(packages ? { packages } : {}),
    });
  }
  return {
    apiVersion: SITE_API_VERSION,
    kind: 'Site',
    cluster: input.cluster ?? null,
    generatedAt: input.generatedAt.toISOString(),
    nodes,
    unreachable,
    packageSets,
  };
}

/** The file's text: JSON (a YAML subset, so the bundle build reads it with the other inputs' loader). */
export function renderSiteFile(site: SiteFile): string {
  return `${JSON.stringify(site, null, 2)}\n`;
}
