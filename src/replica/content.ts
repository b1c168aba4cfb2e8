// The replica's content, built once per content key under the lab cache dir (machine-wide lock, build in a temp
// dir, then rename): www/<host>/<path> for every file the real hosts serve, registries/<host>/ storage for the
// registries, the token key, and content.json (what was built, for the server and the caller).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { withFileLock } from '../lab/file-lock.ts';
import { CACHE_DIR } from '../lab/rootfs.ts';
import { hashFile } from '../util/hash.ts';
import { makeSigningKey, stopGpgAgent, writeDistsRepo, writeFlatRepo, type SigningKey } from './apt-repo.ts';
import { upstreamVersion } from '../bundle/lock-match.ts';
import { buildContainerdIo } from './containerd-io.ts';
import { buildElGpuTools, buildElPackages, EL_DEBIAN_SOURCES, EL_GPU_DEBIAN_SOURCES, EL_GPU_TOOL_PACKAGES, ROCKY_9_4_PACKAGES, type ElDistroPackage, type ElGpuTool } from './el-packages.ts';
import { signRpms } from './rpm-builder.ts';
import { writeRpmRepo } from './rpm-repo.ts';
import { baseSetRpms } from '../lab/el/base-set.ts';
import { debFields, debianDebs } from './debian-debs.ts';
import { seedImages, type SeededImage } from './replica-images.ts';
import { tokenSigner } from './token-server.ts';
import { GITHUB_OBJECTS_HOST, hostPath, UPSTREAM } from './upstreams.ts';

/** What the caller brings: the stand-in contents and the lock's names. */
export interface ReplicaInputs {
  /** pkgs.k8s.io repo minor, e.g. `1.33`. */
  kubernetesMinor: string;
  /** .deb files to publish, per upstream repo (e.g. the kube stand-ins; NVIDIA stand-ins to cuda / nvidiaContainer). */
  debs?: { kubernetes?: readonly string[]; cuda?: readonly string[]; nvidiaContainer?: readonly string[] };
  /** Manifest files to publish at their raw.githubusercontent.com paths. */
  manifests?: { calico?: { version: string; file: string }; devicePlugin?: { version: string; file: string } };
  /** Image references to seed (the lock's images[].ref); tags only. */
  images?: readonly string[];
  /** distribution release to publish, from Debian's docker-registry of the same version (default 2.8.3). */
  distributionVersion?: string;
  /** Any further upstream files: served at `url`'s host and path. */
  files?: readonly { url: string; file: string }[];
  /** Enterprise Linux: serve the spec's EL repositories for this release (e.g. `9.4`), RPMs rebuilt from Debian's. */
  el?: { release: string };
  /**
   * .rpm files to publish, per upstream repo: the kube stand-ins in pkgs.k8s.io's rpm repo; with `cuda`, an EL GPU
   * replica: NVIDIA's CUDA rhel<major> repo (with `cudaModules` as its modules.yaml), libnvidia-container's rpm repo,
   * further AppStream packages (the GPU kernel's kernel-devel), and the DKMS build tools rebuilt from Debian's
   * (gcc, make, elfutils-libelf-devel in Rocky's repos, dkms in EPEL as EL sites get it).
   */
  rpms?: { kubernetes?: readonly string[]; cuda?: readonly string[]; nvidiaContainer?: readonly string[]; appstream?: readonly string[] };
  /** modules.yaml of the CUDA rhel repo (NVIDIA's `nvidia-driver` module streams). */
  cudaModules?: string;
}

export interface ReplicaContent {
  dir: string;
  key: string;
  /** containerd.io's package version (`2.1.9-1~debian.12~bookworm`) and what it was built from. */
  containerdIo: { version: string; containerd: string; from: { containerd: string; runc: string } };
  /** Replica signing key fingerprints per key URL. */
  keys: Record<string, string>;
  images: SeededImage[];
  /** Host paths that answer with a redirect (GitHub release downloads), path → target path. */
  redirects: Record<string, string>;
  /** With `el`: containerd.io's RPM version-release (e.g. `2.1.9-3.1.el9`). */
  containerdIoRpm?: string;
}

/** Bump when the layout of the content changes. */
const LAYOUT = 1;
/** Bump when the layout of the EL content changes (only EL content keys carry it). */
const EL_LAYOUT = 1;
/** Bump when the layout of the EL GPU content changes (only EL GPU content keys carry it). */
const EL_GPU_LAYOUT = 1;
/** Stands in for the repository id that GitHub's object URLs carry (not the real one). */
const DISTRIBUTION_REPO_ID = 23565916;
const DEBIAN_PACKAGES = { sid: ['containerd', 'docker-registry'], bookworm: ['runc'] } as const;

async function fileDigest(file: string): Promise<string> {
  return `${basename(file)}:${(await hashFile(file)).sha256}`;
}

/** The content key: every input's bytes (hashed) and the Debian packages' versions. */
async function contentKey(inputs: ReplicaInputs, debian: Record<string, string>): Promise<string> {
  const rpms = Object.fromEntries(await Promise.all(Object.entries(inputs.rpms ?? {}).map(async ([k, v]) => [k, await Promise.all((v ?? []).map(fileDigest))])));
  const debs = Object.fromEntries(await Promise.all(Object.entries(inputs.debs ?? {}).map(async ([k, v]) => [k, await Promise.all((v ?? []).map(fileDigest))])));
  const manifests = Object.fromEntries(await Promise.all(Object.entries(inputs.manifests ?? {}).map(async ([k, v]) => [k, { version: v.version, file: await fileDigest(v.file) }])));
  const files = await Promise.all((inputs.files ?? []).map(async (f) => ({ url: f.url, file: await fileDigest(f.file) })));
  const summary = {
    LAYOUT, minor: inputs.kubernetesMinor, debs, manifests, files, images: inputs.images ?? [],
    distribution: inputs.distributionVersion ?? '2.8.3', debian: Object.values(debian).map((f) => basename(f)).sort(),
    ...(inputs.el ? { el: inputs.el, rpms, elLayout: EL_LAYOUT, ...(inputs.rpms?.cuda ? { cudaModules: inputs.cudaModules ?? '', elGpuLayout: EL_GPU_LAYOUT } : {}) } : {}),
  };
  return createHash('sha256').update(JSON.stringify(summary)).digest('hex').slice(0, 16);
}

/** The Debian .debs the replica's containerd.io is built from (fetched once, cached). */
async function runtimeDebs(): Promise<Record<string, string>> {
  const sid = await debianDebs(['sid'], DEBIAN_PACKAGES.sid);
  const bookworm = await debianDebs(['bookworm', 'bookworm-updates', 'bookworm-security'], DEBIAN_PACKAGES.bookworm);
  return { ...sid.files, ...bookworm.files };
}

/**
 * The containerd and runc versions inside the replica's containerd.io, for `ferry resolve --pin` before the content
 * (which needs the lock's images) is built.
 */
export async function replicaRuntimeVersions(): Promise<{ containerd: string; runc: string }> {
  const debian = await runtimeDebs();
  const version = async (pkg: string) => upstreamVersion((await debFields(debian[pkg]!, 'Version')).Version!);
  return { containerd: await version('containerd'), runc: await version('runc') };
}

/** The runtime .debs, and with `el` the Debian packages the distribution RPMs are rebuilt from. */
async function contentDebs(inputs: ReplicaInputs): Promise<Record<string, string>> {
  const runtime = await runtimeDebs();
  if (!inputs.el) return runtime;
  const suites = ['bookworm', 'bookworm-updates', 'bookworm-security'];
  const gpu = inputs.rpms?.cuda ? (await debianDebs(suites, EL_GPU_DEBIAN_SOURCES)).files : {};
  return { ...runtime, ...(await debianDebs(suites, EL_DEBIAN_SOURCES)).files, ...gpu };
}

/** Build (or reuse) the content for `inputs`. */
export async function ensureReplicaContent(inputs: ReplicaInputs): Promise<ReplicaContent> {
  const debian = await contentDebs(inputs);
  const key = await contentKey(inputs, debian);
  const dir = join(CACHE_DIR, `replica-${key}`);
  const done = join(dir, 'content.json');
  if (!existsSync(done)) {
    await mkdir(CACHE_DIR, { recursive: true });
    await withFileLock(join(CACHE_DIR, `replica-${key}.lock`), async () => {
      if (existsSync(done)) return;
      const work = `${dir}.tmp-${process.pid}`;
      await rm(work, { recursive: true, force: true });
      await mkdir(work, { recursive: true });
      const content = await buildContent(inputs, debian, work, key).catch(async (error: unknown) => {
        await rm(work, { recursive: true, force: true });
        throw error;
      });
      await writeFile(join(work, 'content.json'), `${JSON.stringify({ ...content, dir }, null, 2)}\n`);
      await rm(dir, { recursive: true, force: true });
      await rename(work, dir);
    });
  }
  return JSON.parse(await readFile(done, 'utf8')) as ReplicaContent;
}

async function buildContent(inputs: ReplicaInputs, debian: Record<string, string>, work: string, key: string): Promise<Omit<ReplicaContent, 'dir'>> {
  const www = (url: string) => join(work, 'www', hostPath(url));
  // gpg-agent's socket path must stay short: the home is a fresh dir under /tmp, removed at the end.
  const gnupg = await mkdtemp(join(tmpdir(), 'ferry-gpg-'));
  const keys: Record<string, string> = {};
  const publish = async (keyUrl: string, uid: string): Promise<SigningKey> => {
    const k = await makeSigningKey(join(gnupg, String(Object.keys(keys).length)), uid);
    await mkdir(join(www(keyUrl), '..'), { recursive: true });
    await writeFile(www(keyUrl), k.armored);
    keys[keyUrl] = k.fingerprint;
    return k;
  };
  try {
    // Docker: dists/bookworm/stable, the pool under dists/bookworm/pool/stable/amd64 as download.docker.com has it.
    const debs = join(work, 'build');
    await mkdir(debs, { recursive: true });
    const containerdIo = await buildContainerdIo({ containerdDeb: debian.containerd!, runcDeb: debian.runc!, outDir: debs });
    const docker = await publish(UPSTREAM.dockerKey, 'ferry replica of download.docker.com <replica@ferry.invalid>');
    await writeDistsRepo({
      root: www(UPSTREAM.docker), suite: 'bookworm', component: 'stable', pool: 'dists/bookworm/pool/stable/amd64',
      debs: [join(debs, containerdIo.file)], key: docker, origin: 'Docker', label: 'Docker CE',
    });

    // pkgs.k8s.io: the flat repo lives on the CDN host (pkgs.k8s.io answers 302 there), .debs under amd64/.
    const minor = inputs.kubernetesMinor;
    const k8s = await publish(`${UPSTREAM.kubernetesCdn(minor)}Release.key`, `ferry replica of pkgs.k8s.io v${minor} <replica@ferry.invalid>`);
    await writeFlatRepo({
      dir: www(UPSTREAM.kubernetesCdn(minor)), subdir: 'amd64', debs: inputs.debs?.kubernetes ?? [], key: k8s,
      origin: `obs://build.opensuse.org/isv:kubernetes:core:stable:v${minor}/deb`, label: `isv:kubernetes:core:stable:v${minor}`,
    });

    // NVIDIA: CUDA's flat repo with its key file beside the index; libnvidia-container's flat repo, key at /gpgkey.
    const cuda = await publish(`${UPSTREAM.cuda}${UPSTREAM.cudaKeyName}`, 'ferry replica of the CUDA repository <replica@ferry.invalid>');
    await writeFlatRepo({ dir: www(UPSTREAM.cuda), subdir: '', debs: inputs.debs?.cuda ?? [], key: cuda, origin: 'NVIDIA', label: 'NVIDIA CUDA' });
    const nct = await publish(UPSTREAM.nvidiaContainerKey, 'ferry replica of libnvidia-container <replica@ferry.invalid>');
    await writeFlatRepo({
      dir: www(UPSTREAM.nvidiaContainer), subdir: '', debs: inputs.debs?.nvidiaContainer ?? [], key: nct,
      origin: 'https://nvidia.github.io/libnvidia-container/stable/deb/amd64', label: 'libnvidia-container',
    });

    // distribution's release tarball and its .sha256, stored on GitHub's object host; github.com redirects there.
    const redirects: Record<string, string> = {};
    const dv = inputs.distributionVersion ?? '2.8.3';
    const registryVersion = upstreamVersion((await debFields(debian['docker-registry']!, 'Version')).Version!);
    if (registryVersion !== dv) throw new Error(`Debian's docker-registry is ${registryVersion}, not distribution ${dv}`);
    const tarball = await registryTarball(debian['docker-registry']!, dv, join(work, 'build'));
    for (const [name, file] of [[basename(UPSTREAM.distribution(dv)), tarball.tar], [`${basename(UPSTREAM.distribution(dv))}.sha256`, tarball.sha256]] as const) {
      const from = hostPath(`${UPSTREAM.distribution(dv).replace(/[^/]+$/, '')}${name}`);
      const object = `${GITHUB_OBJECTS_HOST}/github-production-release-asset-2e65be/${DISTRIBUTION_REPO_ID}/${uuidFor(from)}`;
      await mkdir(join(work, 'www', object, '..'), { recursive: true });
      await copyFile(file, join(work, 'www', object));
      redirects[from] = object;
    }

    for (const [url, m] of [
      ...(inputs.manifests?.calico ? [[UPSTREAM.calico(inputs.manifests.calico.version), inputs.manifests.calico] as const] : []),
      ...(inputs.manifests?.devicePlugin ? [[UPSTREAM.devicePlugin(inputs.manifests.devicePlugin.version), inputs.manifests.devicePlugin] as const] : []),
      ...(inputs.files ?? []).map((f) => [f.url, f] as const),
    ]) {
      await mkdir(join(www(url), '..'), { recursive: true });
      await copyFile(m.file, www(url));
    }

    const containerdIoRpm = inputs.el ? await buildElRepos(inputs, inputs.el.release, debian, www, publish, docker, k8s, nct, join(work, 'build-el')) : undefined;

    await tokenSigner(work);
    const images = inputs.images?.length ? await seedImages(inputs.images, join(work, 'images-build'), (r) => join(work, 'registries', r)) : [];
    await rm(join(work, 'images-build'), { recursive: true, force: true });
    await rm(debs, { recursive: true, force: true });
    return {
      key, containerdIo: { version: containerdIo.version, containerd: containerdIo.containerd, from: containerdIo.from }, keys, images, redirects,
      ...(containerdIoRpm ? { containerdIoRpm } : {}),
    };
  } finally {
    for (const i of Object.keys(keys).keys()) await stopGpgAgent(join(gnupg, String(i)));
    await rm(gnupg, { recursive: true, force: true });
  }
}

/**
 * The EL repositories of bundles/gpu-cluster.yaml for `release`: Docker's (rhel and centos paths, the key of its deb
 * repo, as Docker uses one key), pkgs.k8s.io's rpm repo (the key of its deb repo, at repodata/repomd.xml.key), Rocky's
 * BaseOS and AppStream in the vault, and an empty EPEL (the spec names it; ferry's packages need nothing from it).
 * Every RPM is signed by its repo's key and every repomd.xml has its .asc. Returns containerd.io's version-release.
 */
async function buildElRepos(
  inputs: ReplicaInputs, release: string, debian: Record<string, string>, www: (url: string) => string,
  publish: (keyUrl: string, uid: string) => Promise<SigningKey>, docker: SigningKey, k8s: SigningKey, nvidiaContainerKey: SigningKey, out: string,
): Promise<string> {
  const major = release.split('.')[0]!;
  await mkdir(out, { recursive: true });
  const built = await buildElPackages({ major, debs: debian, outDir: out });
  const copyKey = async (url: string, key: SigningKey) => {
    await mkdir(join(www(url), '..'), { recursive: true });
    await writeFile(www(url), key.armored);
  };
  await signRpms([built.containerdIo.file], docker);
  for (const distro of ['rhel', 'centos'] as const) {
    await copyKey(UPSTREAM.dockerElKey(distro), docker);
    await writeRpmRepo({ dir: www(UPSTREAM.dockerEl(distro, major)), rpms: [built.containerdIo.file], layout: 'docker', key: docker });
  }
  const minor = inputs.kubernetesMinor;
  const kube = [...(inputs.rpms?.kubernetes ?? [])];
  for (const f of kube) await copyFile(f, join(out, basename(f)));
  const kubeSigned = kube.map((f) => join(out, basename(f)));
  await signRpms(kubeSigned, k8s);
  await writeRpmRepo({ dir: www(UPSTREAM.kubernetesRpmCdn(minor)), rpms: kubeSigned, layout: 'obs', key: k8s });
  await copyKey(`${UPSTREAM.kubernetesRpmCdn(minor)}repodata/repomd.xml.key`, k8s);
  const rocky = await publish(UPSTREAM.rockyKey(major), `ferry replica of Rocky Linux ${major} <replica@ferry.invalid>`);
  // The minimal install's packages (provides only) in BaseOS, except those rebuilt with their binaries above.
  const baseSet = await baseSetRpms(release);
  const baseRpms: string[] = [];
  for (const [i, p] of baseSet.packages.entries()) {
    if (p.name in built.distro) continue;
    const f = join(out, basename(baseSet.files[i]!));
    await copyFile(baseSet.files[i]!, f);
    baseRpms.push(f);
  }
  // An EL GPU replica: the DKMS build tools, and the GPU kernel's packages in AppStream (as Rocky 9 has kernel-devel).
  const tools = inputs.rpms?.cuda ? await buildElGpuTools({ debs: debian, outDir: out }) : undefined;
  const toolsIn = (repo: string) => (Object.entries(tools ?? {}) as [ElGpuTool, string][]).filter(([name]) => EL_GPU_TOOL_PACKAGES[name].repo === repo).map(([, f]) => f);
  const appstream = await copiedInto(out, inputs.rpms?.appstream ?? []);
  await signRpms([...Object.values(built.distro), ...baseRpms, ...toolsIn('BaseOS'), ...toolsIn('AppStream'), ...appstream], rocky);
  for (const repo of ['BaseOS', 'AppStream'] as const) {
    const rpms = (Object.entries(built.distro) as [ElDistroPackage, string][]).filter(([name]) => ROCKY_9_4_PACKAGES[name].repo === repo).map(([, f]) => f);
    if (repo === 'BaseOS') rpms.push(...baseRpms);
    if (repo === 'AppStream') rpms.push(...appstream);
    rpms.push(...toolsIn(repo));
    await writeRpmRepo({ dir: www(UPSTREAM.rockyVault(release, repo)), rpms, layout: 'rocky', key: rocky });
  }
  const epel = await publish(UPSTREAM.epelKey(major), `ferry replica of EPEL ${major} <replica@ferry.invalid>`);
  await signRpms(toolsIn('EPEL'), epel);
  await writeRpmRepo({ dir: www(UPSTREAM.epel(major)), rpms: toolsIn('EPEL'), layout: 'rocky', key: epel });
  if (inputs.rpms?.cuda) {
    // NVIDIA's CUDA rhel<major> repo: RPMs at the top (as the real repo lists them), modules.yaml for the
    // `nvidia-driver` streams, key D42D0685.pub beside them; libnvidia-container's rpm repo, key at /gpgkey.
    const cuda = await publish(`${UPSTREAM.cudaEl(major)}${UPSTREAM.cudaElKeyName}`, `ferry replica of the CUDA rhel${major} repository <replica@ferry.invalid>`);
    const cudaRpms = await copiedInto(out, inputs.rpms.cuda);
    await signRpms(cudaRpms, cuda);
    await writeRpmRepo({ dir: www(UPSTREAM.cudaEl(major)), rpms: cudaRpms, layout: 'flat', key: cuda, ...(inputs.cudaModules ? { modules: inputs.cudaModules } : {}) });
    const nct = await copiedInto(out, inputs.rpms.nvidiaContainer ?? []);
    await signRpms(nct, nvidiaContainerKey);
    await writeRpmRepo({ dir: www(UPSTREAM.nvidiaContainerRpm), rpms: nct, layout: 'flat', key: nvidiaContainerKey });
  }
  await rm(out, { recursive: true, force: true });
  return built.containerdIo.version;
}

/** Copies of `files` in `dir` (to sign them there without touching the caller's). */
async function copiedInto(dir: string, files: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    await copyFile(f, join(dir, basename(f)));
    out.push(join(dir, basename(f)));
  }
  return out;
}

/** A stable UUID-shaped name for a release asset (GitHub's object names are UUIDs). */
function uuidFor(seed: string): string {
  const h = createHash('sha256').update(`asset ${seed}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** registry_<v>_linux_amd64.tar.gz as distribution publishes it (LICENSE, README.md, registry) and its .sha256. */
async function registryTarball(deb: string, version: string, work: string): Promise<{ tar: string; sha256: string }> {
  const x = join(work, 'docker-registry');
  const stage = join(work, 'registry-tar');
  await execa('dpkg-deb', ['-x', deb, x]);
  await mkdir(stage, { recursive: true });
  await copyFile(join(x, 'usr/bin/docker-registry'), join(stage, 'registry'));
  await copyFile(join(x, 'usr/share/doc/docker-registry/copyright'), join(stage, 'LICENSE'));
  await writeFile(join(stage, 'README.md'), `# registry ${version} (ferry replica)\n\nThe \`registry\` binary of Debian's docker-registry ${version} package, packed as distribution's release tarball.\n`);
  const name = `registry_${version}_linux_amd64.tar.gz`;
  const tar = join(work, name);
  await execa('sh', ['-c', 'tar --sort=name --mtime=@1767225600 --owner=0 --group=0 --numeric-owner -C "$1" -cf - LICENSE README.md registry | gzip -n > "$2"', 'sh', stage, tar]);
  const sha256 = `${tar}.sha256`;
  await writeFile(sha256, `${(await hashFile(tar)).sha256}  ${name}\n`);
  return { tar, sha256 };
}
