// Does a bundle cover the nodes it is about to be installed on? Judged from the site facts its manifest records
// (`site:` from `ferry bundle build --site`, and `gpuDrivers`) and each node's facts as install reads them: the OS
// release (EL minor) and arch, the GPU node's running kernel, and, for a bundle built against the nodes' installed
// packages, whether the node still has every package the bundle left out. Pure; install's check calls it.
import type { Stack } from '../config/lock.ts';
import type { SitePackage } from '../config/site.ts';
import type { Role } from '../config/inventory.ts';
import type { Facts } from '../facts/types.ts';
import type { BundleManifest } from './manifest.ts';
import { osMismatch } from './site-build.ts';

/** What a bundle covers, as plain data (from its manifest and lock: manifestCoverage). */
export interface BundleCoverage {
  /** The OS releases the bundle carries a repository for (the lock's `stack.os` and `alsoOs`). */
  oses: Stack['os'][];
  /** Whether the lock has an NVIDIA driver at all. */
  driver: boolean;
  /** Kernels the driver is carried for (precompiled or DKMS with that kernel's headers). */
  gpuKernels: string[];
  /** Built with the installed closure: the packages every node had, which the bundle does not carry. */
  installed?: SitePackage[];
  /** Whether the bundle was built with --site (for the message). */
  fromSite: boolean;
}

/** One node as install sees it. `packages` only when gathered (`gatherFacts(host, { packages: true })`). */
export interface CoverageNode {
  name: string;
  /** Install puts the NVIDIA driver on it (role gpu). */
  gpu: boolean;
  os: { id: string; versionId: string; family: string };
  arch: string;
  kernel: string;
  packages?: readonly SitePackage[];
}

export interface CoverageProblem {
  node: string;
  kind: 'os' | 'arch' | 'kernel' | 'packages';
  message: string;
  /** The commands that would fix it. */
  fix: string;
}

/** The coverage a bundle's manifest (and its lock) records. */
export function manifestCoverage(manifest: Pick<BundleManifest, 'site' | 'gpuDrivers'>, stack: Pick<Stack, 'os' | 'nvidiaDriver' | 'alsoOs'>): BundleCoverage {
  const kernels = [...new Set([...(manifest.gpuDrivers ?? []).map((d) => d.kernel), ...(manifest.site?.kernels ?? [])])];
  const installed = manifest.site?.installed?.packages.map((line) => {
    const [name = '', version = '', arch = ''] = line.split(' ');
    return { name, version, arch };
  });
  return { oses: [stack.os, ...(stack.alsoOs ?? []).map((o) => o.os)], driver: stack.nvidiaDriver !== null, gpuKernels: kernels, ...(installed ? { installed } : {}), fromSite: manifest.site !== undefined };
}

/** A node's coverage facts from doctor's facts and its inventory roles. */
export function coverageNode(name: string, roles: readonly Role[], facts: Facts): CoverageNode {
  return {
    name,
    gpu: roles.includes('gpu'),
    os: { id: facts.os.id, versionId: facts.os.versionId, family: facts.os.family },
    arch: facts.kernel.arch,
    kernel: facts.kernel.release,
    ...(facts.packages ? { packages: facts.packages.packages } : {}),
  };
}

const REBUILD = 'on the air-gapped side `ferry doctor -i cluster.yaml --site-out site.json`, carry site.json out, then `ferry bundle build --lock ferry.lock.yaml --spec bundles/gpu-cluster.yaml --site site.json --out <dir>` and bring that bundle in';
const SHOWN = 5;

/** The command that makes a bundle carrying `node`'s OS release beside the ones `carried` (`rocky-9.4`, ...). */
export function carryAlsoFix(carried: readonly string[], node: Pick<CoverageNode, 'name' | 'os'>): string {
  const resolve = [...new Set([...carried, `${node.os.id}-${node.os.versionId}`])].map((o) => `--os ${o}`).join(' ');
  return `a bundle that carries what ${node.name} runs too: \`ferry resolve ${resolve} ... --out ferry.lock.yaml\`, then \`ferry bundle build --lock ferry.lock.yaml --spec bundles/gpu-cluster.yaml --out <dir>\``;
}

/**
 * Whether the bundle carries a repository for `node`'s OS at all (the same ID and major release as one of `oses`:
 * what install needs of a bundle not built with --site); undefined when it does.
 */
export function osNotCarried(oses: readonly Stack['os'][], node: Pick<CoverageNode, 'name' | 'os'>): CoverageProblem | undefined {
  const major = (v: string) => v.split('.')[0];
  if (oses.some((o) => o.id === node.os.id && major(o.version) === major(node.os.versionId))) return undefined;
  const names = oses.map((o) => `${o.id} ${o.version}`).join(' and ');
  return {
    node: node.name,
    kind: 'os',
    message: `${node.name} runs ${node.os.id} ${node.os.versionId}, and the bundle carries packages for ${names} only`,
    fix: carryAlsoFix(oses.map((o) => `${o.id}-${o.version}`), node),
  };
}

function packageGaps(wanted: readonly SitePackage[], have: readonly SitePackage[]): string[] {
  const byKey = new Map(have.map((p) => [`${p.name} ${p.arch}`, p.version]));
  return wanted.flatMap((p) => {
    const version = byKey.get(`${p.name} ${p.arch}`);
    if (version === p.version) return [];
    return [version === undefined ? `${p.name} ${p.version} (${p.arch}) is not installed` : `${p.name} is ${version}, the bundle assumed ${p.version} (${p.arch})`];
  });
}

/**
 * Which nodes the bundle does not cover, and the command that would fix each: a node of another OS, release (EL
 * minor) or arch; a GPU node whose running kernel the bundle carries no driver for; a node that lacks (or has at
 * another version) a package the bundle left out because every node of its site file had it.
 */
export function siteCoverage(coverage: BundleCoverage, nodes: readonly CoverageNode[]): CoverageProblem[] {
  const problems: CoverageProblem[] = [];
  const { oses } = coverage;
  const carried = oses.map((o) => `${o.id}-${o.version}`);
  for (const node of nodes) {
    // A node is covered by any OS release the bundle carries; else the bundle of the lock's releases and the node's.
    const mismatches = oses.map((o) => osMismatch(o, node));
    const mismatch = mismatches.every(Boolean) ? (mismatches.find((m) => m!.kind === 'arch') ?? mismatches[0]) : undefined;
    if (mismatch) {
      const also = oses.length > 1 ? ` (nor ${oses.slice(1).map((o) => `${o.id} ${o.version}`).join(', ')})` : '';
      problems.push({
        node: node.name,
        kind: mismatch.kind,
        message: `${node.name} ${mismatch.message}${mismatch.kind === 'os' ? also : ''}`,
        // Another distribution beside the lock's: carry both (a mixed cluster); the same one at another release: that.
        fix:
          mismatch.kind === 'os' && !oses.some((o) => o.id === node.os.id)
            ? `${carryAlsoFix(carried, node)} (or ${REBUILD})`
            : `a bundle for what ${node.name} runs: \`ferry resolve --os ${node.os.id}-${node.os.versionId} --arch ...\`, then ${REBUILD}`,
      });
      continue;
    }
    if (node.gpu && coverage.driver && !coverage.gpuKernels.includes(node.kernel))
      problems.push({
        node: node.name,
        kind: 'kernel',
        message: `${node.name} runs kernel ${node.kernel}, and the bundle carries the NVIDIA driver only for ${coverage.gpuKernels.length > 0 ? coverage.gpuKernels.join(', ') : 'no kernel'}`,
        fix: REBUILD,
      });
    if (coverage.installed && coverage.installed.length > 0) {
      if (!node.packages) {
        problems.push({
          node: node.name,
          kind: 'packages',
          message: `${node.name}: the bundle leaves out ${coverage.installed.length} packages its site's nodes had, and ${node.name}'s installed packages were not read`,
          fix: `read them (facts gathered with packages), or ${REBUILD}`,
        });
        continue;
      }
      const gaps = packageGaps(coverage.installed, node.packages);
      if (gaps.length > 0)
        problems.push({
          node: node.name,
          kind: 'packages',
          message: `${node.name} lacks ${gaps.length} of the packages the bundle left out because every node of its site file had them: ${gaps.slice(0, SHOWN).join('; ')}${gaps.length > SHOWN ? `; and ${gaps.length - SHOWN} more` : ''}`,
          fix: `${REBUILD} (with ${node.name} in the inventory), or build with --closure full`,
        });
    }
  }
  return problems;
}
