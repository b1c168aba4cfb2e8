// OS packages for Enterprise Linux: dnf resolves the closure against the spec's repos for the target release and
// arch, the RPMs land in the persistent cache, then in the bundle as one repo with createrepo_c (and modules).
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError } from '../../errors.ts';
import type { Host } from '../../hosts/host.ts';
import { LocalHost } from '../../hosts/local.ts';
import type { Artifact, SourceContext } from '../artifact.ts';
import { linkOrCopy } from '../cache-file.ts';
import { applyMirrors, displayUrl, type Mirror } from '../http/mirror.ts';
import { BundleLayout } from '../layout.ts';
import { mapPool } from '../../util/map-pool.ts';
import { decompressByName, readRepoFile } from './repo-file.ts';
import { resolveGpuSets } from '../gpu-drivers.ts';
import type { GpuKernelSet } from './gpu-packages.ts';
import { dnfDownloadArgs, dnfFailure, onlyMissing, parseDnfProblems, parseDnfResolved, repomdLocation, rpmArch, type RpmRepo } from './rpm-plan.ts';
import { formatNevra, subtractInstalled, type Nevra } from './rpm-version.ts';
import { hashFile } from '../../util/hash.ts';

export interface CollectRpmOptions {
  /** Target OS id and version, for the bundle path packages/<id>-<version>/<arch>. */
  osId: string;
  osVersion: string;
  repos: RpmRepo[];
  releasever: string;
  arch: string;
  packages: string[];
  /** Per GPU node kernel, the driver's package sets, preferred first: each kernel gets the first that resolves, in a
   * dnf run of its own (two kernels may need two streams of one module, which one transaction cannot enable). */
  gpu?: GpuKernelSet[];
  /** `full`: against an empty system. `installed`: minus what the node has (NEVRA lines of `rpm -qa`, or names). */
  closure: 'full' | { installed: string[] };
  mirrors?: Mirror[];
}

/** Resolve, fetch and write the RPM repo for the bundle; returns one artifact per RPM and per metadata file. */
export async function collectRpmPackages(options: CollectRpmOptions, ctx: SourceContext, host: Host = new LocalHost()): Promise<Artifact[]> {
  // A repo with a key is checked against it (gpgcheck=1): ferry never bundles a package whose signature fails.
  const repos = options.repos.map((r) => ({ ...r, baseurl: applyMirrors(r.baseurl, options.mirrors), gpgcheck: r.gpgcheck ?? r.gpgkey !== undefined }));
  const arch = rpmArch(options.arch);
  const key = createHash('sha256')
    .update(JSON.stringify({ repos, releasever: options.releasever, arch }))
    .digest('hex')
    .slice(0, 16);
  const work = join(ctx.cacheDir, 'rpm', key);
  const downloaddir = join(work, 'packages');
  const configFile = join(work, 'dnf.conf');
  await mkdir(downloaddir, { recursive: true });
  await writeFile(configFile, '[main]\n');
  const task = `rpm ${options.osId}-${options.osVersion}/${arch}`;
  ctx.progress({ type: 'start', task });

  // --downloadonly never runs the transaction, so no run leaves module state behind for the next in the installroot.
  const download = async (packages: string[]): Promise<{ ok: true; value: Nevra[] } | { ok: false; missing: string[] }> => {
    const argv = dnfDownloadArgs({ configFile, installroot: join(work, 'root'), releasever: options.releasever, arch, repos, downloaddir, packages });
    const run = await host.exec(argv, { allowFailure: true });
    if (run.exitCode !== 0) {
      const problems = parseDnfProblems(`${run.stdout}\n${run.stderr}`);
      const missing = onlyMissing(problems);
      if (missing) return { ok: false, missing };
      throw dnfFailure(problems, repos);
    }
    const value = parseDnfResolved(run.stdout);
    if (value.length === 0) throw new InternalError(`dnf resolved no packages for ${packages.join(' ')}:\n${run.stdout.split('\n').slice(-10).join('\n')}`);
    return { ok: true, value };
  };
  const base = options.packages.length === 0 ? { ok: true as const, value: [] } : await download(options.packages);
  if (!base.ok) throw dnfFailure({ nothingProvides: [], noMatch: base.missing, signature: [], other: [] }, repos);
  const gpu = await resolveGpuSets(options.gpu ?? [], download);
  const byFile = new Map([...base.value, ...gpu.flat()].map((n) => [formatNevra(n), n]));
  const resolved = [...byFile.values()];
  const keep = options.closure === 'full' ? resolved : subtractInstalled(resolved, options.closure.installed).keep;

  const repoPath = BundleLayout.packageRepo(options.osId, options.osVersion, arch);
  const repoDir = join(ctx.bundleDir, repoPath);
  await rm(repoDir, { recursive: true, force: true });
  await mkdir(repoDir, { recursive: true });
  const source = `dnf ${repos.map((r) => `${r.id}=${displayUrl(r.baseurl)}`).join(' ')}`;
  const packages = await mapPool(keep, ctx.concurrency, async (pkg, i) => {
    const file = `${pkg.name}-${pkg.version}-${pkg.release}.${pkg.arch}.rpm`;
    await linkOrCopy(join(downloaddir, file), join(repoDir, file)).catch((error: unknown) => {
      throw new InternalError(`dnf resolved ${formatNevra(pkg)} but ${file} is not in ${downloaddir}`, { cause: error });
    });
    const { sha256, size } = await hashFile(join(repoDir, file));
    ctx.progress({ type: 'advance', task, done: i + 1, total: keep.length });
    return artifactOf(pkg, `${repoPath}/${file}`, size, sha256, source);
  });

  await host.exec(['createrepo_c', '--quiet', '--no-database', repoDir]);
  const modules = await modulesYaml(repos, host, ctx.signal);
  if (modules !== '') {
    const modulesFile = join(work, 'modules.yaml');
    await writeFile(modulesFile, modules);
    await host.exec(['modifyrepo_c', '--mdtype=modules', modulesFile, join(repoDir, 'repodata')]);
  }
  const keys = await carryRepoKeys(repos, repoDir, repoPath, ctx.signal);
  const metadata = await Promise.all(
    (await readdir(join(repoDir, 'repodata'))).sort().map(async (name) => {
      const { sha256, size } = await hashFile(join(repoDir, 'repodata', name));
      return { kind: 'repo-metadata', path: `${repoPath}/repodata/${name}`, size, sha256, source: 'createrepo_c' } satisfies Artifact;
    }),
  );
  ctx.progress({ type: 'finish', task, detail: `${packages.length} packages${modules ? ', with modules' : ''}` });
  return [...packages, ...keys, ...metadata];
}

/**
 * The signing keys of the repos the packages came from, beside the repo as RPM-GPG-KEY-ferry-<repo id> (one file per
 * distinct key), so the node's dnf checks every package again with gpgcheck=1 (local-repo names them in ferry.repo).
 */
async function carryRepoKeys(repos: readonly RpmRepo[], repoDir: string, repoPath: string, signal?: AbortSignal): Promise<Artifact[]> {
  const seen = new Set<string>();
  const out: Artifact[] = [];
  for (const repo of repos) {
    if (!repo.gpgcheck || !repo.gpgkey) continue;
    for (const url of repo.gpgkey.split(/[\s,]+/).filter(Boolean)) {
      const bytes = await readRepoFile(url, '', signal);
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (seen.has(digest)) continue;
      seen.add(digest);
      const name = `RPM-GPG-KEY-ferry-${repo.id}${out.some((a) => a.path.endsWith(`-${repo.id}`)) ? `-${seen.size}` : ''}`;
      await writeFile(join(repoDir, name), bytes);
      out.push({ kind: 'repo-metadata', path: `${repoPath}/${name}`, size: bytes.length, sha256: digest, source: displayUrl(url) });
    }
  }
  return out;
}

function artifactOf(pkg: Nevra, path: string, size: number, sha256: string, source: string): Artifact {
  return {
    kind: 'package',
    path,
    size,
    sha256,
    source,
    name: pkg.name,
    version: pkg.epoch ? `${pkg.epoch}:${pkg.version}` : pkg.version,
    release: pkg.release,
    arch: pkg.arch,
  };
}

/** The modules.yaml documents of every source repo that has them (EL8 AppStream does), concatenated. */
async function modulesYaml(repos: readonly RpmRepo[], host: Host, signal?: AbortSignal): Promise<string> {
  const parts: string[] = [];
  for (const repo of repos) {
    const repomd = (await readRepoFile(repo.baseurl, 'repodata/repomd.xml', signal)).toString('utf8');
    const href = repomdLocation(repomd, 'modules');
    if (!href) continue;
    const text = await decompressByName(href, await readRepoFile(repo.baseurl, href, signal), host);
    parts.push(text.endsWith('\n') ? text : `${text}\n`);
  }
  return parts.join('');
}
