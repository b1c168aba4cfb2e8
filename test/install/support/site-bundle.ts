// Test support: the README's internet-side walkthrough, done literally against the offline replica of the upstream
// world (src/replica): `ferry resolve` writes the lock, `ferry key generate` the signing key, `ferry bundle build`
// with the SHIPPED spec bundles/gpu-cluster.yaml (unchanged; only the replica's --mirrors file differs from a site)
// makes the bundle, and `ferry bundle verify --pubkey` checks it. The test replaces the upstream servers, never a
// step of ferry's: what the replica serves for kubeadm/kubelet/kubectl (and the NVIDIA driver) are the STAND-IN
// packages of test/stand-ins, under the names and versions the real repositories use.
//
// With `gpu`, the lock is resolved for that GPU model (the NVIDIA driver branch and version come from it), the
// replica's CUDA and libnvidia-container repositories serve the NVIDIA stand-ins (test/stand-ins/nvidia) under the
// names NVIDIA's Debian 12 repositories use, and the build gets one `--kernel` per GPU node kernel, as the README's
// GPU build does. A kernel with no Debian headers package (the lab's own) gets a stand-in linux-headers-<K> served
// from the replica's CUDA repository (docs/lab.md says how that differs from a site).
//
// The lab can only run Debian 12's own runc (1.1.5, with Debian's backported fixes; Debian's newer runc builds need
// glibc 2.38), so the lock pins it and accepts the runc floors by name, as a Debian site relying on the distribution's
// backports would (docs/lab.md, "The upstream replica").
//
// The built bundle is cached by its inputs (the lock without its resolvedAt, the build's flags, the replica's content
// key, the spec and ferry's own source): lab tests of one run share one bundle that ferry built through the CLI.
// Every call still runs resolve and `ferry bundle verify --pubkey` on it, so a cached bundle that anything changed
// fails verify and is built again. Tests never write into `dir`.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { withFileLock } from '../../../src/lab/file-lock.ts';
import { memoryIo } from '../../../src/cli/io.ts';
import { run } from '../../../src/cli/program.ts';
import { rewriteManifestImages } from '../../../src/bundle/rewrite.ts';
import { BundleLayout } from '../../../src/bundle/layout.ts';
import { parseManifest, type BundleManifest } from '../../../src/bundle/manifest.ts';
import type { Lock } from '../../../src/config/lock.ts';
import { CACHE_DIR } from '../../../src/lab/rootfs.ts';
import { replicaRuntimeVersions } from '../../../src/replica/content.ts';
import { acceptedRuncRisks, labResolveRequest } from '../../../src/replica/lab-lock.ts';
import { startReplica, type Replica } from '../../../src/replica/replica.ts';
import { standInDebs } from '../../stand-ins/debs.ts';
import { standInRpms } from '../../stand-ins/rpms.ts';
import { nvidiaStandInDebs, type NvidiaStandIns } from '../../stand-ins/nvidia/debs.ts';
import { nvidiaStandInRpms } from '../../stand-ins/nvidia/rpms.ts';

/** The shipped spec the walkthrough builds from. */
export const SHIPPED_SPEC = new URL('../../../bundles/gpu-cluster.yaml', import.meta.url).pathname;
/** Persistent download cache of ferry's builds (like a site's ~/.cache/ferry). */
export const BUILD_CACHE = join(CACHE_DIR, 'site-bundle-cache');

export interface SiteBundle {
  dir: string;
  lockFile: string;
  lock: Lock;
  pubkey: string;
  replica: Replica;
  /** What each step cost, for the figures. */
  timings: Record<string, number>;
  /** The commands as the README shows them (for messages). */
  commands: string[];
  /** The signing key and mirrors file the build used (for further builds from the same replica). */
  signKey: string;
  mirrors: string;
  /** The NVIDIA stand-ins the replica serves (with `gpu`). */
  nvidia?: NvidiaStandIns;
  /** True when an identical earlier build (same inputs, verified again now) was used instead of building. */
  reused: boolean;
}

export interface GpuOptions {
  /** `ferry resolve --gpu`, e.g. h100. */
  model: string;
  /** The GPU nodes' exact kernels (`uname -r`): one `--kernel` each. */
  kernels: string[];
  /**
   * Kernels with no headers package upstream, for which the replica serves stand-in headers: linux-headers-<K> in
   * the CUDA repository (Debian), kernel-devel/kernel-headers of the EL kernel in Rocky's AppStream (EL).
   */
  standInHeaders?: string[];
}

export interface SiteBundleOptions {
  k8s?: string;
  /** `ferry resolve --os`: `debian-12` (default) or an EL release such as `rocky-9.4` (EL lab nodes, src/lab/el/); several
   * for a mixed cluster (`['rocky-9.4', 'debian-12']`: one `--os` each, one bundle with a repository per OS). */
  os?: string | readonly string[];
  gpu?: GpuOptions;
  /** More `ferry resolve --pin C=V`, e.g. `nvidia-driver=595.91.07` for a site that stays on an older driver branch. */
  pins?: string[];
  /** The build's download cache (default BUILD_CACHE; a bench passes an empty one for a cold build). */
  cache?: string;
  /** Build into `work` even when an identical build is cached (the cache is left as it is). */
  fresh?: boolean;
}

interface Built {
  verified: Awaited<ReturnType<typeof ferry>>;
  reused: boolean;
}

/** The build cached in `at`, verified now; built there (under a machine-wide lock) when missing or failing verify. */
async function cachedBuild(at: string, verify: () => ReturnType<typeof ferry>, build: () => Promise<void>): Promise<Built> {
  const done = join(at, 'done');
  const check = async () => (existsSync(done) ? await verify() : undefined);
  const first = await check();
  if (first?.code === 0) return { verified: first, reused: true };
  return withFileLock(`${at}.lock`, async () => {
    // Another run may have built it while this one waited.
    const again = await check();
    if (again?.code === 0) return { verified: again, reused: true };
    await rm(at, { recursive: true, force: true });
    await mkdir(at, { recursive: true });
    await build();
    await writeFile(done, '');
    return { verified: await verify(), reused: false };
  });
}

/** ferry's own inputs to a build: every file under src/, the lockfile of its dependencies, the shipped spec. */
async function ferrySourceDigest(): Promise<string> {
  const root = new URL('../../../', import.meta.url).pathname;
  const files = (await readdir(join(root, 'src'), { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  const hash = createHash('sha256');
  for (const f of [...files, join(root, 'package-lock.json'), SHIPPED_SPEC]) hash.update(f.slice(root.length)).update('\0').update(await readFile(f)).update('\0');
  return hash.digest('hex');
}

/** Runs ferry in-process as a user would from the shell; env carries only HOME (and what `env` adds). */
export async function ferry(argv: string[], env: Record<string, string> = {}) {
  const io = memoryIo();
  const started = performance.now();
  const code = await run(argv, { io, now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME, ...env } });
  return { code, out: io.out(), err: io.err(), ms: Math.round(performance.now() - started) };
}

async function must(step: string, argv: string[], env?: Record<string, string>) {
  const r = await ferry(argv, env);
  if (r.code !== 0) throw new Error(`${step}: ferry ${argv.join(' ')} exited ${r.code}\n${r.err}`);
  return r;
}

/** Calico's manifest as projectcalico publishes it (the unit tests' trimmed copy), at the lock's version. */
async function calicoManifest(work: string, version: string): Promise<{ file: string; images: string[] }> {
  const text = (await readFile(new URL('../../phases/kube/fixtures/calico-trimmed.yaml', import.meta.url), 'utf8')).replaceAll(':master', `:v${version}`);
  const file = join(work, `calico-v${version}.yaml`);
  await writeFile(file, text);
  return { file, images: rewriteManifestImages(text, 'x.invalid').images };
}

/** NVIDIA's device plugin manifest as published (the unit tests' fixture), at `version`. */
async function devicePluginManifest(work: string, version: string): Promise<string> {
  const text = (await readFile(new URL('../../bundle/fixtures/nvidia-device-plugin-v0.17.1.yml', import.meta.url), 'utf8')).replaceAll(':v0.17.1', `:v${version}`);
  const file = join(work, `nvidia-device-plugin-v${version}.yml`);
  await writeFile(file, text);
  return file;
}

/** `ferry bundle build` arguments: the shipped spec through the replica's mirrors, signed, one `--kernel` each. */
function siteBuildArgs(site: Pick<SiteBundle, 'lockFile' | 'mirrors' | 'signKey'>, out: string, kernels: readonly string[], cache: string): string[] {
  // --no-ferry-binary: the single executable is built and carried by its own tests (test/ship); here it would
  // only add its build time to every lab run.
  return ['bundle', 'build', '--lock', site.lockFile, '--spec', SHIPPED_SPEC, ...kernels.flatMap((k) => ['--kernel', k]), '--mirrors', site.mirrors, '--out', out, '--cache', cache, '--sign-key', site.signKey, '--no-ferry-binary', '--quiet'];
}

/** `ferry bundle build` from the shipped spec through the replica into `out` (e.g. a second bundle for another kernel). */
export async function buildSiteBundle(site: Pick<SiteBundle, 'lockFile' | 'mirrors' | 'signKey' | 'replica'>, out: string, kernels: readonly string[] = [], cache = BUILD_CACHE) {
  const argv = siteBuildArgs(site, out, kernels, cache);
  const r = await must('bundle build', argv, { NGC_API_KEY: site.replica.ngcApiKey });
  return { argv, ms: r.ms };
}

/**
 * resolve → key generate → bundle build (shipped spec, replica mirrors) → bundle verify; the lock of resolve in `work`,
 * the built bundle and its keys in the cache (see the header) or, with `fresh`, in `work`. The replica keeps running
 * (the caller stops it): later tests may build a delta or a second bundle from it.
 */
export async function siteBundle(work: string, o: SiteBundleOptions = {}): Promise<SiteBundle> {
  await mkdir(work, { recursive: true });
  const timings: Record<string, number> = {};
  const runtime = await replicaRuntimeVersions();
  const lockFile = join(work, 'ferry.lock.yaml');
  const os = o.os ?? 'debian-12';
  const elRelease = (typeof os === 'string' ? [os] : os).map((r) => /^(rocky|almalinux|rhel|centos)-(\d+\.\d+)$/.exec(r)?.[2]).find(Boolean);
  const request = [...labResolveRequest(runtime, o.k8s, o.gpu?.model, os), ...(o.pins ?? []).flatMap((p) => ['--pin', p])];
  // The refusals of that runc, as resolve names them today (the matrix gains floors), each accepted by name.
  const refused = JSON.parse((await ferry([...request, '--json'])).out) as { conflicts?: { rules: string[] }[] };
  const resolveArgs = [...request, ...acceptedRuncRisks(refused.conflicts ?? []), '--out', lockFile];
  timings.resolve = (await must('resolve', resolveArgs)).ms;
  const lock = parse(await readFile(lockFile, 'utf8')) as Lock;

  const kube = await standInDebs(lock.stack.kubernetes);
  const kubeRpms = elRelease ? await standInRpms(lock.stack.kubernetes) : undefined;
  const calico = await calicoManifest(work, lock.stack.cni.version);
  const images = [...new Set([...lock.images.map((i) => i.ref), ...calico.images])];
  const driver = lock.stack.nvidiaDriver;
  if (o.gpu && !driver) throw new Error(`resolve --gpu ${o.gpu.model} wrote a lock without an NVIDIA driver`);
  const nvidia = o.gpu && driver && !elRelease ? await nvidiaStandInDebs(driver.version, o.gpu.standInHeaders ?? []) : undefined;
  // EL: NVIDIA's rhel<major> repos serve the stand-ins as RPMs; the stand-in kernel-devel/-headers go to AppStream.
  const nvidiaRpms = o.gpu && driver && elRelease ? await nvidiaStandInRpms(driver.version, elRelease.split('.')[0]!, o.gpu.standInHeaders ?? []) : undefined;
  const pluginTag = lock.images.find((i) => i.component === 'nvidia-device-plugin')?.ref.split(':').pop()?.replace(/^v/, '');
  const devicePlugin = o.gpu && pluginTag ? { version: pluginTag, file: await devicePluginManifest(work, pluginTag) } : undefined;
  const inDir = (dir: string, files: readonly string[]) => files.map((f) => join(dir, f));
  let started = performance.now();
  const replica = await startReplica({
    kubernetesMinor: lock.stack.kubernetes.split('.').slice(0, 2).join('.'),
    debs: {
      kubernetes: inDir(kube.dir, kube.files),
      ...(nvidia ? { cuda: inDir(nvidia.dir, [...nvidia.cuda, ...nvidia.headers]), nvidiaContainer: inDir(nvidia.dir, nvidia.nvidiaContainer) } : {}),
    },
    manifests: { calico: { version: lock.stack.cni.version, file: calico.file }, ...(devicePlugin ? { devicePlugin } : {}) },
    images,
    ...(elRelease && kubeRpms
      ? {
          el: { release: elRelease },
          rpms: { kubernetes: kubeRpms.files, ...(nvidiaRpms ? { cuda: nvidiaRpms.cuda, nvidiaContainer: nvidiaRpms.nvidiaContainer, appstream: nvidiaRpms.kernel } : {}) },
          ...(nvidiaRpms ? { cudaModules: nvidiaRpms.cudaModules } : {}),
        }
      : {}),
  });
  timings.replica = Math.round(performance.now() - started);
  try {
    const mirrors = await replica.mirrorsFile(join(work, 'mirrors.yaml'));
    const kernels = o.gpu?.kernels ?? [];
    const cache = o.cache ?? BUILD_CACHE;
    const at_ = (at: string) => ({ lockFile: join(at, 'ferry.lock.yaml'), signKey: join(at, 'keys', 'ferry.key'), pubkey: join(at, 'keys', 'ferry.pub'), dir: join(at, 'bundle') });
    /** key generate + bundle build into `at` (which holds the lock). */
    const build = async (at: string) => {
      await must('key generate', ['key', 'generate', '--out', join(at, 'keys')]);
      started = performance.now();
      await buildSiteBundle({ ...at_(at), mirrors, replica }, at_(at).dir, kernels, cache);
      timings.build = Math.round(performance.now() - started);
    };
    const verify = (at: string) => ferry(['bundle', 'verify', at_(at).dir, '--pubkey', at_(at).pubkey]);
    let at = work;
    let found: Built;
    if (o.fresh || o.cache) {
      await build(work);
      found = { verified: await verify(work), reused: false };
    } else {
      const { resolvedAt: _, ...stack } = lock;
      const inputs = { stack, kernels, replica: replica.content.key, ferry: await ferrySourceDigest() };
      at = join(CACHE_DIR, `site-bundle-${createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16)}`);
      found = await cachedBuild(at, () => verify(at), async () => {
        await copyFile(lockFile, join(at, 'ferry.lock.yaml'));
        await build(at);
      });
    }
    const { dir, pubkey, signKey, lockFile: builtLock } = at_(at);
    if (found.verified.code !== 0) throw new Error(`bundle verify: ferry bundle verify ${dir} exited ${found.verified.code}\n${found.verified.err}`);
    timings.verify = found.verified.ms;
    const commands = [`ferry ${resolveArgs.join(' ')}`, `ferry ${siteBuildArgs({ lockFile: builtLock, mirrors, signKey }, dir, kernels, cache).join(' ')}`, `ferry bundle verify ${dir} --pubkey ${pubkey}`];
    return {
      dir, lockFile: builtLock, lock: parse(await readFile(builtLock, 'utf8')) as Lock, pubkey, replica, timings, commands,
      signKey, mirrors, reused: found.reused, ...(nvidia ? { nvidia } : {}),
    };
  } catch (error) {
    await replica.stop();
    throw error;
  }
}

/** The built bundle's manifest (what ferry install reads from it). */
export async function siteManifest(site: Pick<SiteBundle, 'dir'>): Promise<BundleManifest> {
  const file = join(site.dir, BundleLayout.manifest);
  return parseManifest(await readFile(file, 'utf8'), file);
}
