// What a bundle must hold, decided from the lock and the spec: images, OS packages, files and manifests, each
// with its upstream URL after the spec's mirrors are applied. Pure: no fetching, no file system.
import { UserError } from '../errors.ts';
import type { BundleSpec, OsRelease, RegistryCredential } from '../config/bundle-spec.ts';
import type { Lock } from '../config/lock.ts';
import { applyMirrors, type Mirror } from './http/mirror.ts';
import { LOCAL_REGISTRY_HOST } from '../registry/local-name.ts';
import { notInstallable } from './lock-match.ts';
import { lockOn, lockOses, osName } from '../config/lock-os.ts';
import type { GpuKernelSet } from './sources/gpu-packages.ts';

export interface PlannedFile {
  url: string;
  sha256?: string;
  sha256Url?: string;
  component: string;
  version: string;
  name: string;
  mode?: number;
  /** Carry only this member of the (.tar.gz) download. */
  extract?: string;
}

export interface PlannedManifest {
  url: string;
  sha256?: string;
  component: string;
  version: string;
  name: string;
}

export interface BundlePlan {
  name: string;
  platform: string;
  os: { id: string; version: string; family: 'el' | 'debian' };
  arch: { go: string; rpm: string };
  images: { ref: string; critical: boolean }[];
  registries: { mirrors: Record<string, string>; credentials: RegistryCredential[]; insecure: string[] };
  /** `gpu`: per GPU node kernel, the driver's package sets, preferred first; the source keeps the first that resolves. */
  rpm?: { repos: { id: string; baseurl: string; gpgkey?: string }[]; releasever: string; arch: string; packages: string[]; gpu: GpuKernelSet[]; closure: BundleSpec['closure'] };
  deb?: { sources: { uri: string; suite: string; components: string[]; signedBy?: string }[]; arch: string; packages: string[]; gpu: GpuKernelSet[]; closure: BundleSpec['closure'] };
  /** EL: the lock's minor is no longer the current one, so repos with a `vault:` URL use it. */
  vault?: { current: string };
  /** A lock for several OS releases (`stack.alsoOs`): the package plan of each other one, in the lock's order; the
   * fields above are the first OS's. Images, files and manifests are planned once. */
  alsoOs?: OsPackagePlan[];
  files: PlannedFile[];
  manifests: PlannedManifest[];
  localRegistry: string;
  /** Entries of the spec left out, with why (e.g. a GPU file when the lock has no GPU). */
  skipped: string[];
}

/** The OS package part of a plan, for one OS release of the lock. */
export type OsPackagePlan = Pick<BundlePlan, 'os' | 'rpm' | 'deb' | 'vault'>;

/** Every OS package plan of a bundle plan, the first OS first. */
export function osPackagePlans(plan: BundlePlan): OsPackagePlan[] {
  const { os, rpm, deb, vault } = plan;
  return [{ os, ...(rpm ? { rpm } : {}), ...(deb ? { deb } : {}), ...(vault ? { vault } : {}) }, ...(plan.alsoOs ?? [])];
}

/** The OS versions the matrix knows: one list for the lock's distro, or one per distro id (a lock for several). */
export type KnownOsVersions = readonly string[] | Readonly<Record<string, readonly string[]>>;

const GO_TO_RPM_ARCH: Record<string, string> = { amd64: 'x86_64', arm64: 'aarch64', ppc64le: 'ppc64le', s390x: 's390x' };

/** The {placeholders} a spec may use, from the lock; a null means "this lock has none" (the entry is skipped). */
export function templateVariables(lock: Lock): Record<string, string | null> {
  const go = lock.platform.split('/')[1] ?? 'amd64';
  const s = lock.stack;
  return {
    kubernetes: s.kubernetes,
    kubernetesMinor: s.kubernetes.split('.').slice(0, 2).join('.'),
    cri: s.cri.version,
    criName: s.cri.name,
    runc: s.runc,
    cni: s.cni.version,
    cniName: s.cni.name,
    kernel: s.kernel,
    nvidiaDriver: s.nvidiaDriver?.version ?? null,
    nvidiaDriverBranch: s.nvidiaDriver?.branch ?? null,
    arch: go,
    basearch: GO_TO_RPM_ARCH[go] ?? go,
    // EL resolves for the lock's minor (9.4), so the exact kernel-devel of a frozen minor is found; {osMajor} is for
    // repositories that only have majors (EPEL, CUDA, Docker).
    releasever: s.os.family === 'el' ? s.os.version : s.os.version.split('.')[0]!,
    osMajor: s.os.version.split('.')[0]!,
    osId: s.os.id,
    osVersion: s.os.version,
    // {imageTag.<last path segment>}: the tag the lock chose for that image, without a leading v (e.g. the device
    // plugin's, so its manifest matches its image).
    ...Object.fromEntries(
      lock.images.flatMap((i) => {
        const m = /\/([^/:@]+):v?([^:@/]+)$/.exec(i.ref);
        return m ? [[`imageTag.${m[1]}`, m[2]!]] : [];
      }),
    ),
  };
}

/** Fills {name} placeholders; returns null when one names a value the lock does not have. */
export function expand(template: string, vars: Record<string, string | null>, where: string): string | null {
  let missing = false;
  const out = template.replace(/\{([A-Za-z0-9.-]+)\}/g, (_m, key: string) => {
    if (!(key in vars) && !key.startsWith('imageTag.')) throw new UserError(`${where}: unknown placeholder {${key}}`, { hint: `known: ${Object.keys(vars).map((k) => `{${k}}`).join(' ')}` });
    const v = vars[key];
    if (v === null || v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? null : out;
}

/** Whether an entry's `when` holds for this lock. */
export function matchesWhen(when: Record<string, string> | undefined, vars: Record<string, string | null>, where: string): boolean {
  return Object.entries(when ?? {}).every(([key, want]) => {
    if (!(key in vars) && !key.startsWith('imageTag.')) throw new UserError(`${where}.when: unknown lock value ${key}`, { hint: `known: ${Object.keys(vars).join(' ')}` });
    return want === '*' ? vars[key] !== null : vars[key] === want;
  });
}

function pickRelease(spec: BundleSpec, lock: Lock): OsRelease {
  const { family, version, id } = lock.stack.os;
  const releases = spec.os[family] ?? {};
  const release = releases[version] ?? releases[version.split('.')[0]!];
  if (!release)
    throw new UserError(`bundle spec ${spec.name} has no package sources for ${id} ${version} (os.${family}."${version.split('.')[0]}")`, {
      hint: `add os.${family}."${version.split('.')[0]}" with ${family === 'el' ? 'repos' : 'sources'} to the spec`,
    });
  return release;
}

/**
 * The newest minor the matrix knows for `version`'s major (e.g. 9.6 for 9.4), when it is newer than `version`;
 * undefined when `version` is the current minor (or newer than anything known). `known`: the matrix's versions of
 * the lock's distro.
 */
export function newerElMinor(version: string, known: readonly string[]): string | undefined {
  const [major, minor] = version.split('.').map(Number);
  if (minor === undefined || Number.isNaN(minor)) return undefined;
  const newest = known
    .map((v) => v.split('.').map(Number))
    .filter(([ma, mi]) => ma === major && mi !== undefined && mi > minor!)
    .sort((a, b) => b[1]! - a[1]!)[0];
  return newest ? `${newest[0]}.${newest[1]}` : undefined;
}

/** The OS package part of the plan for a one-OS view of the lock (lockOn): its repositories or apt sources, packages
 * (with their GPU driver sets) and, for an older EL minor, the vault. */
function planOsPackages(lock: Lock, spec: BundleSpec, gpu: readonly GpuKernelSet[], knownOsVersions: readonly string[], skipped: string[]): OsPackagePlan {
  const vars = templateVariables(lock);
  const mirrors: Mirror[] = Object.entries(spec.mirrors).map(([prefix, replacement]) => ({ prefix, replacement }));
  const mirror = (u: string) => applyMirrors(u, mirrors);
  const fill = (t: string, where: string) => expand(t, vars, where);
  // A key given as a URL is fetched like the repository it signs (through the mirrors); a path stays a path.
  const keyLocation = (k: string) => (/^https?:\/\//.test(k) ? mirror(k) : k);
  const release = pickRelease(spec, lock);
  const packages: string[] = [];
  release.packages.forEach((entry, i) => {
    const where = `os.${lock.stack.os.family}.packages[${i}]`;
    const p = typeof entry === 'string' ? entry : entry.name;
    if (typeof entry !== 'string' && !matchesWhen(entry.when, vars, where)) return;
    const name = fill(p, where);
    if (name === null) skipped.push(`package ${p}: the lock has no value for it`);
    else packages.push(name);
  });
  const uniquePackages = [...new Set(packages)];
  const current = lock.stack.os.family === 'el' ? newerElMinor(lock.stack.os.version, knownOsVersions) : undefined;
  const closure = spec.closure;
  return {
    os: { id: lock.stack.os.id, version: lock.stack.os.version, family: lock.stack.os.family },
    ...(lock.stack.os.family === 'el'
      ? {
          rpm: {
            repos: (release.repos ?? []).filter((r, i) => matchesWhen(r.when, vars, `repos[${i}]`)).map((r, i) => {
              // An older minor lives in the distribution's vault (Rocky: dl.rockylinux.org/vault/rocky/9.4/, Alma:
              // vault.almalinux.org/9.4/); the spec says where, per repo.
              const [template, field] = current && r.vault ? [r.vault, 'vault'] : [r.baseurl, 'baseurl'];
              return {
                id: r.id,
                baseurl: mirror(fill(template, `repos[${i}].${field}`) ?? template),
                ...(r.gpgkey ? { gpgkey: keyLocation(fill(r.gpgkey, `repos[${i}].gpgkey`) ?? r.gpgkey) } : {}),
              };
            }),
            releasever: vars.releasever!,
            arch: vars.basearch!,
            packages: uniquePackages,
            gpu: [...gpu],
            closure,
          },
        }
      : {
          deb: {
            sources: (release.sources ?? []).filter((s, i) => matchesWhen(s.when, vars, `sources[${i}]`)).map((s, i) => ({
              uri: mirror(fill(s.uri, `sources[${i}].uri`) ?? s.uri),
              suite: s.suite,
              components: s.components,
              ...(s.signedBy ? { signedBy: keyLocation(fill(s.signedBy, `sources[${i}].signedBy`) ?? s.signedBy) } : {}),
            })),
            arch: vars.arch!,
            packages: uniquePackages,
            gpu: [...gpu],
            closure,
          },
        }),
    ...(current ? { vault: { current } } : {}),
  };
}

/**
 * Turns lock + spec (+ the GPU driver sets for the nodes' kernels, the OS versions the matrix knows) into what each
 * source must fetch. A lock for several OS releases gets one package plan per OS (`alsoOs`); `gpuDriverSets` then
 * holds each set with the OS its kernel belongs to (`osGpuDriverSets`), or applies to the first OS.
 */
export function planBundle(
  lock: Lock,
  spec: BundleSpec,
  options: { gpuDriverSets?: readonly GpuKernelSet[] | Readonly<Record<string, readonly GpuKernelSet[]>>; gpuDriverInstaller?: PlannedFile; knownOsVersions?: KnownOsVersions } = {},
): BundlePlan {
  const refused = notInstallable(lock.stack);
  if (refused) throw new UserError(refused, { hint: 'resolve with --cri containerd, then build again' });
  const vars = templateVariables(lock);
  const skipped: string[] = [];
  const mirrors: Mirror[] = Object.entries(spec.mirrors).map(([prefix, replacement]) => ({ prefix, replacement }));
  const mirror = (u: string) => applyMirrors(u, mirrors);
  const fill = (t: string, where: string) => expand(t, vars, where);
  const known = options.knownOsVersions ?? [];
  const sets = options.gpuDriverSets ?? [];
  const byOs = (value: unknown): value is Readonly<Record<string, unknown>> => !Array.isArray(value);
  const osPlans = lockOses(lock.stack).map((target, i) => {
    const gpu = byOs(sets) ? ((sets as Readonly<Record<string, readonly GpuKernelSet[]>>)[osName(target.os)] ?? []) : i === 0 ? (sets as readonly GpuKernelSet[]) : [];
    const versions = byOs(known) ? ((known as Readonly<Record<string, readonly string[]>>)[target.os.id] ?? []) : (known as readonly string[]);
    return planOsPackages(lockOn(lock, target), spec, gpu, versions, skipped);
  });

  const files: PlannedFile[] = [];
  spec.files.forEach((f, i) => {
    const where = `files[${i}]`;
    if (!matchesWhen(f.when, vars, where)) return;
    const version = fill(f.version, `${where}.version`);
    const url = version === null ? null : expand(f.url, { ...vars, version }, `${where}.url`);
    if (version === null || url === null) {
      skipped.push(`file ${f.component}/${f.name}: the lock has no value for it`);
      return;
    }
    const sha256Url = f.sha256Url === undefined ? undefined : expand(f.sha256Url, { ...vars, version, url }, `${where}.sha256Url`);
    files.push({
      url: mirror(url),
      ...(f.sha256 ? { sha256: f.sha256 } : {}),
      ...(sha256Url ? { sha256Url: mirror(sha256Url) } : {}),
      component: f.component,
      version,
      name: f.name,
      ...(f.mode !== undefined ? { mode: f.mode } : {}),
      ...(f.extract !== undefined ? { extract: f.extract } : {}),
    });
  });

  if (spec.nvidiaDriverInstaller && options.gpuDriverInstaller) files.push({ ...options.gpuDriverInstaller, url: mirror(options.gpuDriverInstaller.url) });
  else if (spec.nvidiaDriverInstaller) skipped.push('NVIDIA driver installer: the lock has no NVIDIA driver');

  const manifests: PlannedManifest[] = [];
  spec.manifests.forEach((m, i) => {
    const where = `manifests[${i}]`;
    if (!matchesWhen(m.when, vars, where)) return;
    const version = fill(m.version, `${where}.version`);
    const url = version === null ? null : expand(m.url, { ...vars, version }, `${where}.url`);
    if (version === null || url === null) skipped.push(`manifest ${m.component}/${m.name}: the lock has no value for it`);
    else manifests.push({ url: mirror(url), ...(m.sha256 ? { sha256: m.sha256 } : {}), component: m.component, version, name: m.name });
  });

  const images = new Map<string, boolean>();
  for (const img of [...lock.images, ...spec.images.extra]) images.set(img.ref, (images.get(img.ref) ?? false) || img.critical);
  const arch = { go: vars.arch!, rpm: vars.basearch! };
  const [primary, ...alsoOs] = osPlans;
  return {
    name: spec.name,
    platform: lock.platform,
    ...primary!,
    arch,
    images: [...images].map(([ref, critical]) => ({ ref, critical })),
    registries: { mirrors: spec.registries.mirrors, credentials: spec.registries.credentials, insecure: spec.registries.insecure },
    ...(alsoOs.length > 0 ? { alsoOs } : {}),
    files,
    manifests,
    localRegistry: LOCAL_REGISTRY_HOST,
    skipped: [...new Set(skipped)],
  };
}

/** The plan as `ferry bundle build --dry-run` prints it: every upstream after mirrors, one per line. */
export function renderPlan(plan: BundlePlan): string {
  const oses = osPackagePlans(plan);
  const names = oses.map((o) => `${o.os.id} ${o.os.version}`).join(' + ');
  const lines = [`bundle ${plan.name} for ${names} (${plan.platform}); manifests point at ${plan.localRegistry}`];
  const section = (title: string, items: string[]) => {
    if (items.length) lines.push('', `${title} (${items.length}):`, ...items.map((i) => `  ${i}`));
  };
  section('images (plus those the manifests name)', plan.images.map((i) => `${i.ref}${i.critical ? ' (critical)' : ''}`));
  for (const o of oses) {
    // One OS: the sections as they always were; several: each titled with its OS.
    const of = oses.length > 1 ? ` of ${o.os.id} ${o.os.version}` : '';
    const vault = o.vault ? ` (${o.os.version} is not the current minor, ${o.vault.current} is: repos with a vault URL use it)` : '';
    if (o.rpm) section(`RPM repos${of} for releasever ${o.rpm.releasever} ${o.rpm.arch}${vault}`, o.rpm.repos.map((r) => `${r.id}: ${r.baseurl}`));
    if (o.deb) section(`apt sources${of} for ${o.deb.arch}`, o.deb.sources.map((s) => `${s.uri} ${s.suite} ${s.components.join(' ')}`));
    section(`packages${of} (and their dependency closure)`, (o.rpm ?? o.deb)?.packages ?? []);
    section(
      `NVIDIA driver${of} per GPU node kernel (the first that resolves is carried)`,
      ((o.rpm ?? o.deb)?.gpu ?? []).flatMap((k) => [`${k.kernel}:`, ...k.alternatives.map((a, i) => `  ${i === 0 ? '' : 'else '}${a.kind}: ${a.packages.join(' ')}`)]),
    );
  }
  section('files', plan.files.map((f) => `${f.component}/${f.version}/${f.name} <- ${f.url}${f.sha256 ? '' : ` (sha256 from ${f.sha256Url ?? 'the download itself'})`}`));
  section('manifests', plan.manifests.map((m) => `${m.component}/${m.version}/${m.name} <- ${m.url}`));
  section('left out', plan.skipped);
  return `${lines.join('\n')}\n`;
}
