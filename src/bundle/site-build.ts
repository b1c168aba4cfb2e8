// `ferry bundle build --site site.json`: what the site file gives the build, checked against the lock. Each GPU
// node's exact kernel (its driver: precompiled for it, or DKMS with its kernel-devel / linux-headers), each node's OS
// release (EL: the minor, the {releasever} the repositories resolve for), and, for the `installed` closure, the
// packages every node already has (not carried). A node whose OS, release or arch is not the lock's, or a GPU node
// for a lock without a driver, is a contradiction: refused (exit 2) with every such node named. Pure.
import { UserError } from '../errors.ts';
import type { BundleSpec } from '../config/bundle-spec.ts';
import type { Stack } from '../config/lock.ts';
import { packageLines, packageSetSha256, type SiteFile, type SitePackage } from '../config/site.ts';
import type { SiteRecord } from './manifest.ts';

export interface SiteBuild {
  /** GPU node kernels: the site's GPU nodes' and any given with --kernel. */
  kernels: string[];
  closure: BundleSpec['closure'];
  /** What the manifest records (`site:`). */
  record: SiteRecord;
  /** Things worth saying (a GPU node without the gpu role, the size of the installed set). */
  notes: string[];
}

const GO_ARCH: Readonly<Record<string, string>> = { x86_64: 'amd64', amd64: 'amd64', aarch64: 'arm64', arm64: 'arm64' };

/** What osMismatch needs of a node: os-release's ID and VERSION_ID (with ferry's family) and `uname -m`. */
export interface NodeOs {
  os: { id: string; versionId: string; family: string };
  arch: string;
}

/** Why a node cannot be served by a bundle of the lock's OS (another OS, release, EL minor or arch), or undefined. */
export function osMismatch(os: Stack['os'], node: NodeOs): { kind: 'os' | 'arch'; message: string } | undefined {
  const lockOs = `${os.id} ${os.version}`;
  const nodeOs = `${node.os.id} ${node.os.versionId}`;
  const other = { kind: 'os' as const, message: `runs ${nodeOs}, but the lock is for ${lockOs}` };
  if (node.os.family !== os.family || node.os.id !== os.id) return other;
  const [major, minor] = os.version.split('.');
  const [nodeMajor, nodeMinor] = node.os.versionId.split('.');
  if (nodeMajor !== major) return other;
  if (os.family === 'el' && minor !== undefined && nodeMinor !== minor)
    return { kind: 'os', message: `${other.message}: the packages (and the kernel-devel of its kernel) resolve for one minor, {releasever} ${os.version}` };
  if ((GO_ARCH[node.arch] ?? node.arch) !== (GO_ARCH[os.arch] ?? os.arch)) return { kind: 'arch', message: `is ${node.arch}, but the lock is for ${os.arch}` };
  return undefined;
}

/** The packages in every one of `sets` (same name, version and arch), sorted. */
export function commonPackages(sets: readonly (readonly SitePackage[])[]): SitePackage[] {
  if (sets.length === 0) return [];
  const key = (p: SitePackage) => `${p.name} ${p.version} ${p.arch}`;
  let common = new Map(sets[0]!.map((p) => [key(p), p]));
  for (const set of sets.slice(1)) {
    const here = new Set(set.map(key));
    common = new Map([...common].filter(([k]) => here.has(k)));
  }
  return [...common.values()].sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

/** A site package as the closure's `installed` list takes it: EL `name-[epoch:]version-release.arch`, Debian `name:arch=version`. */
export function installedEntry(family: 'el' | 'debian', p: SitePackage): string {
  return family === 'el' ? `${p.name}-${p.version}.${p.arch}` : `${p.name}:${p.arch}=${p.version}`;
}

/**
 * The build's kernels, closure and manifest record from the site file, or a UserError naming every node that
 * contradicts the lock. `closure`: `installed` (the default with --site) leaves out what every node has.
 */
export function siteBuild(stack: Pick<Stack, 'os' | 'nvidiaDriver' | 'alsoOs'>, site: SiteFile, options: { file: string; kernels: readonly string[]; closure: 'full' | 'installed' }): SiteBuild {
  const { os } = stack;
  const oses = [os, ...(stack.alsoOs ?? []).map((o) => o.os)];
  const problems: string[] = [];
  const notes: string[] = [];
  for (const node of site.nodes) {
    // A lock for several OS releases (a mixed cluster) serves a node of any of them.
    const why = oses.map((o) => osMismatch(o, node));
    if (why.every(Boolean)) problems.push(`${node.name} ${why[0]!.message}${oses.length > 1 ? ` (nor ${oses.slice(1).map((o) => `${o.id} ${o.version}`).join(', ')})` : ''}`);
  }
  if (oses.length > 1 && options.closure === 'installed')
    problems.push(`the installed closure resolves against one OS's package set, and the lock is for ${oses.map((o) => `${o.id} ${o.version}`).join(' and ')}: build with --closure full`);
  const gpuRole = site.nodes.filter((n) => n.roles.includes('gpu'));
  if (stack.nvidiaDriver === null && gpuRole.length > 0)
    problems.push(`${gpuRole.map((n) => n.name).join(', ')} ${gpuRole.length === 1 ? 'has' : 'have'} the gpu role, but the lock has no NVIDIA driver`);
  const sets = site.nodes.map((n) => (n.packages === undefined ? undefined : site.packageSets[n.packages]));
  const manager = os.family === 'el' ? 'rpm' : 'dpkg';
  if (options.closure === 'installed')
    site.nodes.forEach((n, i) => {
      const set = sets[i];
      if (!set) problems.push(`${n.name}: the site file has no installed packages for it, which the installed closure needs (or build with --closure full)`);
      else if (set.manager !== manager) problems.push(`${n.name}: its packages are ${set.manager}'s, but ${os.id} uses ${manager}`);
    });
  if (problems.length > 0)
    throw new UserError(`${options.file} contradicts the lock (${os.id} ${os.version}, ${os.arch}${stack.nvidiaDriver ? `, NVIDIA ${stack.nvidiaDriver.version}` : ', no GPU driver'}):\n  ${problems.join('\n  ')}`, {
      hint: 'a bundle serves the OS releases of its lock: resolve a lock for every release the nodes run (ferry resolve --os <id>-<version> ..., one --os each, or --site site.json), or give --site a file of the nodes that run the lock\'s (ferry doctor -i <inventory of those nodes> --site-out site.json)',
    });

  const gpuNodes = site.nodes.filter((n) => n.roles.includes('gpu') || n.gpus > 0);
  for (const n of gpuNodes.filter((g) => !g.roles.includes('gpu') && stack.nvidiaDriver !== null))
    notes.push(`${n.name} has ${n.gpus} NVIDIA GPU(s) but not the gpu role: its kernel is carried for anyway, install gives it no driver until it has the role`);
  const kernels = stack.nvidiaDriver === null ? [...options.kernels] : [...new Set([...options.kernels, ...gpuNodes.map((n) => n.kernel)])];

  let closure: BundleSpec['closure'] = 'full';
  let installed: SiteRecord['installed'];
  if (options.closure === 'installed') {
    const common = commonPackages(sets.map((s) => s!.packages));
    installed = { manager, sha256: packageSetSha256({ manager, packages: common }), packages: packageLines(common) };
    closure = { installed: common.map((p) => installedEntry(os.family, p)) };
    notes.push(`${common.length} packages are on every one of the ${site.nodes.length} node(s): the closure is resolved against them and carries none of them`);
  }
  return {
    kernels,
    closure,
    notes,
    record: {
      cluster: site.cluster,
      generatedAt: site.generatedAt,
      os: { id: os.id, version: os.version, family: os.family },
      nodes: site.nodes.map((n) => ({
        name: n.name,
        os: `${n.os.id} ${n.os.versionId}`,
        arch: n.arch,
        kernel: n.kernel,
        gpu: n.roles.includes('gpu') || n.gpus > 0,
        ...(n.packages ? { packages: n.packages } : {}),
      })),
      kernels: stack.nvidiaDriver === null ? [] : kernels,
      osVersions: [...new Set(site.nodes.map((n) => n.os.versionId))],
      closure: options.closure,
      ...(installed ? { installed } : {}),
    },
  };
}
