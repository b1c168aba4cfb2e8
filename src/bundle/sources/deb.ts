// OS packages for Debian/Ubuntu: apt-get resolves the closure under a private configuration (our sources, state,
// cache and status) for the target arch, the .debs land in the persistent cache, then in the bundle as a flat
// repository with Packages, Packages.gz and Release.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InternalError, UserError } from '../../errors.ts';
import { fetchSmall } from '../fetch.ts';
import type { Host } from '../../hosts/host.ts';
import { LocalHost } from '../../hosts/local.ts';
import { sh } from '../../hosts/shell.ts';
import type { Artifact, SourceContext } from '../artifact.ts';
import { linkOrCopy } from '../cache-file.ts';
import { applyMirrors, displayUrl, type Mirror } from '../http/mirror.ts';
import { BundleLayout } from '../layout.ts';
import { mapPool } from '../../util/map-pool.ts';
import { resolveGpuSets } from '../gpu-drivers.ts';
import type { GpuKernelSet } from './gpu-packages.ts';
import { aptFailure, aptMissing, aptOptions, archiveFileName, debArch, parseAptSimulation, parseInstalledDeb, sourcesList, statusFile, type DebSource } from './deb-plan.ts';
import { parseDeb822 } from './deb822.ts';
import { hashFile } from '../../util/hash.ts';

export interface CollectDebOptions {
  /** Target OS id and version, for the bundle path packages/<id>-<version>/<arch>. */
  osId: string;
  osVersion: string;
  sources: DebSource[];
  arch: string;
  packages: string[];
  /** Per GPU node kernel, the driver's package sets, preferred first: each kernel gets the first that resolves. */
  gpu?: GpuKernelSet[];
  /** `full`: against an empty system. `installed`: against the node's packages (`name=version` or `dpkg-query -W` lines). */
  closure: 'full' | { installed: string[] };
  mirrors?: Mirror[];
}

/** A private apt: every path it reads or writes, and the argv prefix that makes apt-get use them. */
export interface PrivateApt {
  dirs: { root: string; status: string };
  apt: (tool: 'apt-get' | 'apt-cache', ...args: string[]) => string[];
}

/** Set up a private apt state under `root` for `sources` and `arch`, with `status` as the dpkg status. */
export async function privateApt(root: string, sources: readonly DebSource[], arch: string, status = ''): Promise<PrivateApt> {
  const dirs = {
    sourcelist: join(root, 'sources.list'),
    state: join(root, 'state'),
    status: join(root, 'status'),
    cache: join(root, 'cache'),
    log: join(root, 'log'),
    trustedparts: join(root, 'trusted.gpg.d'),
  };
  for (const d of [join(dirs.state, 'lists', 'partial'), join(dirs.cache, 'archives', 'partial'), dirs.log, dirs.trustedparts]) await mkdir(d, { recursive: true });
  await writeFile(dirs.sourcelist, sourcesList(sources, arch));
  await writeFile(dirs.status, status);
  const options = aptOptions(dirs, arch, process.getuid?.() === 0 ? 'root' : undefined);
  return { dirs: { root, status: dirs.status }, apt: (tool, ...args) => [tool, ...options, ...args] };
}

/**
 * Sources whose signed-by is a URL get it fetched into `dir` (armored keys as .asc, binary keyrings as .gpg: apt
 * tells them apart by the extension), so apt checks the repository against exactly that key.
 */
export async function withLocalKeys(sources: readonly DebSource[], dir: string, signal?: AbortSignal): Promise<DebSource[]> {
  return Promise.all(
    sources.map(async (s) => {
      if (!s.signedBy || !/^https?:\/\//.test(s.signedBy)) return s;
      const key = await fetchSmall(s.signedBy, 'an OpenPGP key', signal);
      const armored = key.subarray(0, 64).toString('latin1').includes('-----BEGIN PGP PUBLIC KEY BLOCK-----');
      if (!armored && key[0] !== undefined && (key[0] & 0x80) === 0)
        throw new UserError(`${displayUrl(s.signedBy)}: not an OpenPGP key (neither armored nor binary)`, { hint: 'check signedBy in the bundle spec' });
      await mkdir(dir, { recursive: true });
      const path = join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 16)}.${armored ? 'asc' : 'gpg'}`);
      await writeFile(path, key);
      return { ...s, signedBy: path };
    }),
  );
}

/** Resolve, fetch and write the flat Debian repo for the bundle; one artifact per .deb and per index file. */
export async function collectDebPackages(options: CollectDebOptions, ctx: SourceContext, host: Host = new LocalHost()): Promise<Artifact[]> {
  const sources = options.sources.map((s) => ({ ...s, uri: applyMirrors(s.uri, options.mirrors) }));
  const arch = debArch(options.arch);
  const key = createHash('sha256').update(JSON.stringify({ sources, arch })).digest('hex').slice(0, 16);
  const work = join(ctx.cacheDir, 'deb', key);
  const task = `deb ${options.osId}-${options.osVersion}/${arch}`;
  ctx.progress({ type: 'start', task });
  const apt = await privateApt(work, await withLocalKeys(sources, join(work, 'keys'), ctx.signal), arch);
  await host.exec(apt.apt('apt-get', '-q', 'update'));

  let unknown = 0;
  if (options.closure !== 'full') {
    const wanted = options.closure.installed.map(parseInstalledDeb).filter((p) => p.name !== '');
    // Each package at the node's version and, for versions the sources no longer have, at theirs (what it provides).
    const asked = [...new Set([...wanted.map((p) => (p.version ? `${p.name}=${p.version}` : p.name)), ...wanted.map((p) => p.name)])];
    const shown = await host.exec(apt.apt('apt-cache', 'show', '--no-all-versions', ...asked), { allowFailure: true });
    const status = statusFile(options.closure.installed, parseDeb822(shown.stdout), arch);
    await writeFile(apt.dirs.status, status.text);
    // Node packages the sources do not know, given without a version, cannot be described to apt; leaving them
    // out of the status can only make the closure larger, never short.
    unknown = status.unknown.length;
  }

  // Each set is simulated and fetched on its own: a kernel's precompiled module and another kernel's DKMS driver may
  // come from repositories whose packages conflict in one transaction.
  const fetchSet = async (packages: string[]): Promise<{ ok: true; value: ReturnType<typeof parseAptSimulation> } | { ok: false; missing: string[] }> => {
    const sim = await host.exec(apt.apt('apt-get', '-s', '-q', 'install', ...packages), { allowFailure: true });
    if (sim.exitCode !== 0) {
      const missing = aptMissing(`${sim.stdout}\n${sim.stderr}`);
      if (missing) return { ok: false, missing };
      throw aptFailure(`${sim.stdout}\n${sim.stderr}`);
    }
    // Only downloads: a node package at another version than the lock's (a newer kubectl on the site's nodes) is
    // replaced on install, which the simulation above already resolved; apt's -y alone refuses to fetch a downgrade.
    const fetch = await host.exec(apt.apt('apt-get', '-q', '-y', '--allow-downgrades', '--download-only', 'install', ...packages), { allowFailure: true });
    if (fetch.exitCode !== 0) throw aptFailure(`${fetch.stdout}\n${fetch.stderr}`);
    return { ok: true, value: parseAptSimulation(sim.stdout) };
  };
  let wanted = options.packages;
  let base = wanted.length === 0 ? { ok: true as const, value: [] } : await fetchSet(wanted);
  // A partial bundle carries what the sources have and names what they lack (`name` of `name=version*`).
  while (!base.ok && ctx.leftOut) {
    const lacking = new Set(base.missing);
    const next = wanted.filter((p) => !lacking.has(p.split('=')[0]!));
    if (next.length === wanted.length) break;
    ctx.leftOut?.push(...wanted.filter((p) => !next.includes(p)).map((p) => `package ${p}: no source has it`));
    wanted = next;
    base = wanted.length === 0 ? { ok: true as const, value: [] } : await fetchSet(wanted);
  }
  if (!base.ok) throw aptFailure(base.missing.map((m) => `E: Unable to locate package ${m}`).join('\n'));
  const gpu = await resolveGpuSets(options.gpu ?? [], fetchSet);
  const resolved = [...new Map([...base.value, ...gpu.flat()].map((p) => [archiveFileName(p), p])).values()];

  const repoPath = BundleLayout.packageRepo(options.osId, options.osVersion, arch);
  const repoDir = join(ctx.bundleDir, repoPath);
  await rm(repoDir, { recursive: true, force: true });
  await mkdir(repoDir, { recursive: true });
  const archives = join(work, 'cache', 'archives');
  const source = `apt ${sources.map((s) => `${displayUrl(s.uri)} ${s.suite}`).join(', ')}`;
  const packages = await mapPool(resolved, ctx.concurrency, async (pkg, i) => {
    const file = archiveFileName(pkg);
    await linkOrCopy(join(archives, file), join(repoDir, file)).catch((error: unknown) => {
      throw new InternalError(`apt resolved ${pkg.name} ${pkg.version} but ${file} is not in ${archives}`, { cause: error });
    });
    const { sha256, size } = await hashFile(join(repoDir, file));
    ctx.progress({ type: 'advance', task, done: i + 1, total: resolved.length });
    return { kind: 'package', path: `${repoPath}/${file}`, size, sha256, source, name: pkg.name, version: pkg.version, arch: pkg.arch } satisfies Artifact;
  });

  const metadata = await indexFlatRepo(repoDir, repoPath, work, host);
  ctx.progress({ type: 'finish', task, detail: `${packages.length} packages${unknown ? `; ${unknown} node packages unknown to the sources` : ''}` });
  return [...packages, ...metadata];
}

/** (Re)write a flat repo's Packages, Packages.gz and Release (Release made in `work`, outside the repo, so it
 * does not list itself); returns their artifacts. Also used to add site-local .debs to a built bundle. */
export async function indexFlatRepo(repoDir: string, repoPath: string, work: string, host: Host = new LocalHost()): Promise<Artifact[]> {
  await host.exec(sh`cd ${repoDir} && apt-ftparchive packages . > Packages`);
  await writeFile(join(repoDir, 'Packages.gz'), gzipSync(await readFile(join(repoDir, 'Packages'))));
  await mkdir(work, { recursive: true });
  // A new file, never a write through the old one: earlier bundles hold hard links to it (linkOrCopy below).
  await rm(join(work, 'Release'), { force: true });
  await host.exec(sh`cd ${repoDir} && apt-ftparchive -o APT::FTPArchive::Release::Origin=ferry -o APT::FTPArchive::Release::Label=ferry release . > ${join(work, 'Release')}`);
  await linkOrCopy(join(work, 'Release'), join(repoDir, 'Release'));
  return Promise.all(
    ['Packages', 'Packages.gz', 'Release'].map(async (name) => {
      const { sha256, size } = await hashFile(join(repoDir, name));
      return { kind: 'repo-metadata', path: `${repoPath}/${name}`, size, sha256, source: 'apt-ftparchive' } satisfies Artifact;
    }),
  );
}

/**
 * Check that a flat repo is usable the way a node will use it: a fresh apt state whose only source is the repo
 * (`trusted=yes`), the given dpkg status (empty = a bare system), and `apt-get install --simulate` of `packages`.
 */
export async function simulateDebInstall(
  o: { repoDir: string; arch: string; packages: string[]; status?: string; workDir: string },
  host: Host = new LocalHost(),
): Promise<{ installs: string[] }> {
  const apt = await privateApt(o.workDir, [{ uri: `file:${o.repoDir}`, suite: './', components: [], trusted: true }], o.arch, o.status ?? '');
  await host.exec(apt.apt('apt-get', '-q', 'update'));
  const sim = await host.exec(apt.apt('apt-get', '-s', '-q', 'install', ...o.packages), { allowFailure: true });
  if (sim.exitCode !== 0) throw aptFailure(`${sim.stdout}\n${sim.stderr}`);
  return { installs: parseAptSimulation(sim.stdout).map((p) => p.name) };
}
