// `ferry bundle build`: lock + spec → sources run into the bundle directory (in parallel where independent), stray
// files pruned, then metadata sealed. Written as a literal list of steps so the CLI can show each one (listr2).
import type { KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import type { BundleSpec, RegistryCredential } from '../config/bundle-spec.ts';
import type { Lock } from '../config/lock.ts';
import type { Artifact, ProgressEvent, SourceContext } from './artifact.ts';
import { planDelta, renderDeltaNote } from './delta.ts';
import { BundleLayout, bundleMetadataFiles } from './layout.ts';
import { parseManifest, type BundleManifest } from './manifest.ts';
import { collectManifests } from './manifests-source.ts';
import { walk } from './observe.ts';
import { osPackagePlans, planBundle, type BundlePlan, type KnownOsVersions, type OsPackagePlan, type PlannedFile } from './plan.ts';
import { lockOn, lockOses, osName } from '../config/lock-os.ts';
import { gpuKernelsByOs } from '../gpu/kernel-release.ts';
import { fetchText } from './fetch.ts';
import type { FileSpec } from './sources/files.ts';
import type { GpuKernelSet } from './sources/gpu-packages.ts';
import { gpuDriverChoices } from './gpu-drivers.ts';
import type { Credentials } from '../registry-client/client.ts';
import { formatImageReference, parseImageReference } from '../registry-client/reference.ts';
import { sealBundle } from './seal.ts';
import { bundleContents, lockMismatches, renderMismatches } from './lock-match.ts';
import { hashFile, hashBytes } from '../util/hash.ts';


/** The sources a build runs (src/bundle/sources/); each returns the artifacts it wrote under ctx.bundleDir. */
export interface BundleSources {
  images?: (
    options: { images: { ref: string; critical: boolean }[]; platform: string; mirrors: Record<string, string>; credentials: Record<string, Credentials>; insecureRegistries: string[] },
    ctx: SourceContext,
  ) => Promise<Artifact[]>;
  rpm?: (options: NonNullable<BundlePlan['rpm']> & { osId: string; osVersion: string }, ctx: SourceContext) => Promise<Artifact[]>;
  deb?: (options: NonNullable<BundlePlan['deb']> & { osId: string; osVersion: string }, ctx: SourceContext) => Promise<Artifact[]>;
  files?: (options: { files: FileSpec[] }, ctx: SourceContext) => Promise<Artifact[]>;
  gpuDriverSets?: (lock: Lock, kernels: readonly string[]) => GpuKernelSet[];
  gpuDriverInstaller?: (lock: Lock) => FileSpec | undefined;
}

export interface BuildInput {
  lock: Lock;
  lockText: string;
  spec: BundleSpec;
  outDir: string;
  cacheDir: string;
  /** Path of the previous bundle's manifest.yaml: build a delta that carries only what changed. */
  since?: string;
  signing?: { privateKey: KeyObject; publicPem: string };
  /** A ferry executable (e.g. a single-executable build) to carry as bin/ferry, so the far side can run ferry; a
   * function finds (or builds) one when the step runs and says how. */
  ferryBinary?: string | (() => Promise<{ path: string; origin: string }>);
  now: Date;
  env: Readonly<Record<string, string | undefined>>;
  sources: BundleSources;
  /** The OS versions the matrix knows for the lock's distro (or per distro id, for a lock of several): an EL minor
   * with a newer one is read from the vault. */
  knownOsVersions?: KnownOsVersions;
  concurrency: number;
  toolVersion: string;
  signal?: AbortSignal;
  /** Allow a bundle that lacks parts of the lock (an add-on or test bundle); a wrong version is still refused. */
  partial?: boolean;
  /** Built with --site: the site facts the bundle covers, recorded in the manifest (src/bundle/site-build.ts). */
  site?: BundleManifest['site'];
}

export interface BuildStep {
  title: string;
  /** Steps that run at the same time; a step has either `parallel` or `run`. */
  parallel?: BuildStep[];
  run?: (progress: (event: ProgressEvent) => void) => Promise<string | void>;
}

export interface BuildState {
  plan?: BundlePlan;
  /** A partial build: what the upstreams lacked and the bundle therefore does not carry. */
  leftOut: string[];
  artifacts: Artifact[];
  pruned: string[];
  delta?: { carried: number; unchanged: number; removed: number };
  base?: BundleManifest['base'];
  manifest?: BundleManifest;
}

/** Reads a registry credential from the environment or a file; the value never appears in any message. */
export async function resolveCredential(c: RegistryCredential, env: BuildInput['env']): Promise<Credentials> {
  const username = c.username ?? env[c.usernameEnv!];
  if (username === undefined) throw new UserError(`registry ${c.registry}: environment variable ${c.usernameEnv} is not set`);
  let password: string | undefined;
  if (c.passwordEnv) password = env[c.passwordEnv];
  else password = (await readFile(c.passwordFile!, 'utf8').catch(() => undefined))?.replace(/\r?\n$/, '');
  if (password === undefined)
    throw new UserError(`registry ${c.registry}: ${c.passwordEnv ? `environment variable ${c.passwordEnv} is not set` : `cannot read ${c.passwordFile}`}`);
  return { username, password };
}

/** The first word of a checksum file (`<hex>` or `<hex>  <name>`), checked to be a sha256. */
export function sha256FromChecksumFile(text: string, url: string): string {
  const word = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (!/^[0-9a-f]{64}$/.test(word)) throw new UserError(`${url}: does not start with a sha256`, { hint: 'check sha256Url in the bundle spec' });
  return word;
}

/** Files with their sha256 known: literal from the spec, or read from the upstream's checksum file. */
async function withChecksums(files: readonly PlannedFile[], signal?: AbortSignal): Promise<FileSpec[]> {
  return Promise.all(
    files.map(async ({ sha256Url, ...f }) => ({ ...f, sha256: f.sha256 ?? sha256FromChecksumFile(await fetchText(sha256Url!, signal), sha256Url!) })),
  );
}

function need<T>(fn: T | undefined, what: string): T {
  if (!fn) throw new UserError(`this ferry has no ${what} source`, { hint: 'update ferry; the plan needs it' });
  return fn;
}

/** Keeps one record per path; the same path with two contents is a bug in a source. */
function dedupe(artifacts: readonly Artifact[]): Artifact[] {
  const byPath = new Map<string, Artifact>();
  for (const a of artifacts) {
    const seen = byPath.get(a.path);
    if (seen && seen.sha256 !== a.sha256) throw new UserError(`two sources wrote ${a.path} with different content (${seen.source}, ${a.source})`);
    if (!seen) byPath.set(a.path, a);
  }
  return [...byPath.values()];
}

/** Removes what an earlier or interrupted run left in `dir` that this build does not list. */
async function prune(dir: string, keep: ReadonlySet<string>): Promise<string[]> {
  const { files } = await walk(dir);
  const stray = files.filter((f) => !keep.has(f) && !bundleMetadataFiles.includes(f) && f !== BundleLayout.lock && f !== BundleLayout.sbom);
  for (const f of stray) await rm(join(dir, f), { force: true });
  return stray;
}

/**
 * Makes sure `dir` may be written and pruned: it is new or empty, holds a bundle (manifest.yaml), or an earlier build
 * with this cache started it (recorded under <cache>/builds/). Anything else is refused, so a mistyped --out such as
 * /media/usb never loses its other files.
 */
async function claimDir(dir: string, cacheDir: string): Promise<void> {
  const mark = join(cacheDir, 'builds', createHash('sha256').update(resolve(dir)).digest('hex'));
  const entries = await readdir(dir).catch(() => [] as string[]);
  const ours = entries.length === 0 || entries.includes(BundleLayout.manifest) || (await stat(mark).then(() => true, () => false));
  if (!ours)
    throw new UserError(`${dir} is not empty and holds no ferry bundle; refusing to write (and prune) there`, {
      hint: 'give --out a new or empty directory, e.g. /media/usb/ferry-bundle',
    });
  await mkdir(dirname(mark), { recursive: true });
  await writeFile(mark, `${resolve(dir)}\n`);
  await mkdir(dir, { recursive: true });
}

/** The plan a build (and `--dry-run`) works from: lock, spec, the GPU driver sets and the matrix's OS versions. */
export function planFromInput(input: Pick<BuildInput, 'lock' | 'spec' | 'sources' | 'knownOsVersions'>): BundlePlan {
  const { lock, spec, sources } = input;
  const oses = lockOses(lock.stack);
  // Several OS releases: each GPU node kernel goes to the OS it belongs to, and each OS's sets are planned against
  // that OS (an OS without GPU nodes gets none).
  const gpuDriverSets =
    oses.length === 1 || !sources.gpuDriverSets
      ? sources.gpuDriverSets?.(lock, spec.kernels)
      : Object.fromEntries(
          Object.entries(gpuKernelsByOs(lock.stack, oses.map((o) => o.os), spec.kernels, 'the GPU node kernels (--kernel, or kernels: in the spec)')).map(([name, kernels]) => [
            name,
            kernels.length > 0 ? sources.gpuDriverSets!(lockOn(lock, oses.find((o) => osName(o.os) === name)!), kernels) : [],
          ]),
        );
  return planBundle(lock, spec, {
    ...(gpuDriverSets ? { gpuDriverSets } : {}),
    gpuDriverInstaller: sources.gpuDriverInstaller?.(lock),
    knownOsVersions: input.knownOsVersions ?? [],
  });
}

/** The steps of one build, in order; `state` fills as they run. */
export function buildSteps(input: BuildInput, state: BuildState): BuildStep[] {
  const workDir = input.since ? join(input.cacheDir, 'delta-staging', input.spec.name) : input.outDir;
  const collected: Artifact[][] = [];
  let manifestImages: string[] = [];
  const ctxFor = (progress: (e: ProgressEvent) => void): SourceContext => ({
    bundleDir: workDir,
    cacheDir: input.cacheDir,
    concurrency: input.concurrency,
    signal: input.signal,
    progress,
    ...(input.partial ? { leftOut: state.leftOut } : {}),
  });
  const plan = () => state.plan!;
  const osOf = (o: OsPackagePlan) => ({ osId: o.os.id, osVersion: o.os.version });
  const packageCount = (p: BundlePlan) => osPackagePlans(p).reduce((n, o) => n + ((o.rpm ?? o.deb)?.packages.length ?? 0), 0);

  const steps: BuildStep[] = [
    {
      title: 'Plan the bundle from the lock and the spec',
      run: async () => {
        state.plan = planFromInput(input);
        await claimDir(workDir, input.cacheDir);
        if (workDir !== input.outDir) await claimDir(input.outDir, input.cacheDir);
        const p = state.plan;
        return `${p.images.length} images, ${packageCount(p)} packages${p.alsoOs ? ` for ${osPackagePlans(p).length} OS releases` : ''}, ${p.files.length} files, ${p.manifests.length} manifests`;
      },
    },
    {
      title: 'Fetch manifests and rewrite them to the local registry',
      run: async (progress) => {
        const r = await collectManifests(plan().manifests, plan().localRegistry, ctxFor(progress));
        collected.push(r.artifacts);
        manifestImages = r.images;
        return `${r.artifacts.length} manifests`;
      },
    },
    {
      title: 'Collect images, packages and files',
      parallel: [
        {
          title: 'Images',
          run: async (progress) => {
            const known = new Set(plan().images.map((i) => formatImageReference(parseImageReference(i.ref))));
            const images = [...plan().images, ...manifestImages.filter((r) => !known.has(r)).map((ref) => ({ ref, critical: false }))];
            if (images.length === 0) return 'none';
            // Only the registries this build contacts need their credential (a CPU-only bundle needs no NGC key).
            const mirrors = plan().registries.mirrors;
            const contacted = new Set(images.map((i) => {
              const registry = parseImageReference(i.ref).registry;
              return mirrors[registry] ? new URL(mirrors[registry]).host : registry;
            }));
            const credentials: Record<string, Credentials> = {};
            for (const c of plan().registries.credentials) if (contacted.has(c.registry)) credentials[c.registry] = await resolveCredential(c, input.env);
            const r = await need(input.sources.images, 'image')(
              { images, platform: plan().platform, mirrors: plan().registries.mirrors, credentials, insecureRegistries: plan().registries.insecure },
              ctxFor(progress),
            );
            collected.push(r);
            return `${images.length} images, ${r.length} files`;
          },
        },
        {
          title: 'OS packages',
          run: async (progress) => {
            // One repository per OS release (packages/<id>-<version>/<arch>/), one after the other.
            const done: string[] = [];
            for (const o of osPackagePlans(plan())) {
              const list = o.rpm ?? o.deb;
              if (!list || (list.packages.length === 0 && list.gpu.length === 0)) continue;
              const r = o.rpm
                ? await need(input.sources.rpm, 'RPM package')({ ...o.rpm, ...osOf(o) }, ctxFor(progress))
                : await need(input.sources.deb, 'Debian package')({ ...o.deb!, ...osOf(o) }, ctxFor(progress));
              collected.push(r);
              done.push(plan().alsoOs ? `${r.length} files for ${o.os.id} ${o.os.version}` : `${r.length} files`);
            }
            return done.length > 0 ? done.join(', ') : 'none';
          },
        },
        {
          title: 'Files',
          run: async (progress) => {
            if (plan().files.length === 0) return 'none';
            const files = await withChecksums(plan().files, input.signal);
            const r = await need(input.sources.files, 'file')({ files }, ctxFor(progress));
            collected.push(r);
            return `${r.length} files`;
          },
        },
        {
          title: 'The ferry executable',
          run: async () => {
            if (!input.ferryBinary) return 'not carried (--no-ferry-binary)';
            const found = typeof input.ferryBinary === 'string' ? { path: input.ferryBinary, origin: '' } : await input.ferryBinary();
            const target = join(workDir, BundleLayout.binary);
            await mkdir(dirname(target), { recursive: true });
            await copyFile(found.path, `${target}.partial`).catch((error: NodeJS.ErrnoException) => {
              throw new UserError(`cannot read --ferry-binary ${found.path}: ${error.code}`);
            });
            await chmod(`${target}.partial`, 0o755);
            await rename(`${target}.partial`, target);
            const h = await hashFile(target);
            collected.push([{ kind: 'binary', path: BundleLayout.binary, ...h, source: `ferry ${input.toolVersion}`, name: 'ferry', version: input.toolVersion }]);
            return found.origin ? `${h.size} bytes (${found.origin})` : `${h.size} bytes`;
          },
        },
      ],
    },
    {
      title: 'Prune files this build does not list',
      run: async () => {
        state.artifacts = dedupe(collected.flat());
        state.pruned = await prune(workDir, new Set(state.artifacts.map((a) => a.path)));
        return `${state.artifacts.length} artifacts, ${state.pruned.length} stray files removed`;
      },
    },
  ];
  steps.push({
    title: 'Check the bundle against the lock',
    run: async () => {
      const index = await readFile(join(workDir, BundleLayout.imageIndex), 'utf8').catch(() => undefined);
      const all = lockMismatches(input.lock, bundleContents(state.artifacts, index));
      const missing = all.filter((m) => m.found === 'nothing');
      const mismatches = input.partial ? all.filter((m) => m.found !== 'nothing') : all;
      if (mismatches.length > 0)
        throw new UserError(`the bundle does not match the lock:\n  ${renderMismatches(mismatches)}`, {
          hint: 'fix the bundle spec (or resolve again) and build again; nothing was sealed',
        });
      if (input.partial && missing.length > 0) return `partial (install will refuse it): lacks ${missing.map((m) => m.component).join(', ')}`;
      return 'containerd, Kubernetes packages, driver, registry and images as the lock says';
    },
  });
  if (input.since) steps.push(deltaStep(input, state, workDir));
  steps.push({
    title: 'Write manifest, SHA256SUMS, SBOM and signature',
    run: async () => {
      const sealed = await sealBundle({
        dir: input.outDir,
        name: input.spec.name,
        createdAt: input.now,
        platform: plan().platform,
        osId: plan().os.id,
        lockText: input.lockText,
        artifacts: state.artifacts,
        base: state.base,
        gpuDrivers: gpuDriverChoices(osPackagePlans(plan()).flatMap((o) => (o.rpm ?? o.deb)?.gpu ?? []), state.artifacts),
        site: input.site,
        signing: input.signing,
        toolVersion: input.toolVersion,
      });
      state.manifest = sealed.manifest;
      return input.signing ? 'signed' : 'not signed (no --sign-key)';
    },
  });
  return steps;
}

function deltaStep(input: BuildInput, state: BuildState, workDir: string): BuildStep {
  return {
    title: 'Keep only what changed since the base bundle',
    run: async () => {
      const baseText = await readFile(input.since!).catch(() => {
        throw new UserError(`--since ${input.since}: cannot read it (give the previous bundle's manifest.yaml)`);
      });
      const base = parseManifest(baseText.toString('utf8'), input.since!);
      const d = planDelta(base, state.artifacts);
      const baseRef = { manifestSha256: hashBytes(baseText).sha256, name: base.name, createdAt: base.createdAt };
      await prune(input.outDir, new Set(d.carried.map((a) => a.path)));
      for (const a of d.carried) {
        await mkdir(dirname(join(input.outDir, a.path)), { recursive: true });
        await copyFile(join(workDir, a.path), `${join(input.outDir, a.path)}.partial`);
        await rename(`${join(input.outDir, a.path)}.partial`, join(input.outDir, a.path));
      }
      const carried = [...d.carried.map((a) => a.path), BundleLayout.lock, BundleLayout.sbom].sort();
      const moved = d.moved.map((m) => ({ path: m.artifact.path, from: m.from }));
      const note = renderDeltaNote({ apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleDelta', base: baseRef, carried, removed: d.removed, ...(moved.length ? { moved } : {}) });
      await writeFile(join(input.outDir, BundleLayout.delta), note);
      state.delta = { carried: d.carried.length, unchanged: d.unchanged.length + d.moved.length, removed: d.removed.length };
      state.base = baseRef;
      return `${d.carried.length} carried, ${d.unchanged.length + d.moved.length} unchanged (${d.moved.length} under another path), ${d.removed.length} removed`;
    },
  };
}

/** Runs steps in order (parallel groups at once), reporting each step's start and result through `report`. */
export async function runSteps(steps: readonly BuildStep[], report: (event: ProgressEvent) => void): Promise<void> {
  for (const step of steps) {
    if (step.parallel) {
      await Promise.all(step.parallel.map((s) => runSteps([s], report)));
      continue;
    }
    report({ type: 'start', task: step.title });
    const detail = await step.run!(report);
    report({ type: 'finish', task: step.title, ...(detail ? { detail } : {}) });
  }
}

/** Builds a bundle start to finish; returns what the steps found. */
export async function buildBundle(input: BuildInput, report: (event: ProgressEvent) => void = () => {}): Promise<BuildState> {
  const state: BuildState = { artifacts: [], pruned: [], leftOut: [] };
  await runSteps(buildSteps(input, state), report);
  return state;
}
