// Test support: a real bundle for the lab, built by `ferry bundle build` from the machine's own apt sources
// (read at test time): containerd, runc, HAProxy, keepalived, curl and the dependencies a lab node lacks.
// Cached under /var/cache/ferry-test (rebuilt when missing); the build's download cache makes a rebuild cheap.
// kubeLabBundle adds what the Kubernetes phases need: the STAND-IN kubeadm/kubelet/kubectl .debs in the bundle's
// repo, the registry binary (Debian's docker-registry) at files/registry, small fixture images under the upstream
// names kubeadm and Calico use, and Calico's manifest (upstream's, trimmed) with its images rewritten by ferry's code.
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parse, stringify } from 'yaml';
import type { Artifact } from '../../../src/bundle/artifact.ts';
import { BundleLayout } from '../../../src/bundle/layout.ts';
import { rewriteManifestImages } from '../../../src/bundle/rewrite.ts';
import { CRITICAL, REF_NAME } from '../../../src/bundle/sources/oci-layout.ts';
import { LOCAL_REGISTRY } from '../../../src/phases/render-inputs.ts';
import { resealBundle } from '../../support/reseal-bundle.ts';
import { hashFile } from '../../../src/util/hash.ts';
import { machineAptSources } from '../../support/apt-sources.ts';
import { pushFixtures } from '../../support/fixture-images.ts';
import { runFerry } from '../../cli/support/run-ferry.ts';

export const LAB_CACHE = '/var/cache/ferry-test';
export const LAB_KUBERNETES = '1.33.1';
export const LAB_CALICO = '3.30.2';

/** The lock the lab installs: Debian 12 as the nodes run it, containerd 1.6 as Debian ships it. */
export function labLock(images: { ref: string; component: string; critical: boolean }[]) {
  return {
    apiVersion: 'ferry.dev/v1alpha1', kind: 'Lock', resolvedAt: '2026-11-23T00:00:00Z',
    matrixDigest: `sha256:${'0'.repeat(64)}`, request: { os: 'debian-12' }, gpu: null,
    stack: {
      os: { id: 'debian', version: '12', family: 'debian', arch: 'amd64' }, kernel: '6.1.0-37-amd64', cgroup: 'v2',
      kubernetes: LAB_KUBERNETES, cri: { name: 'containerd', version: '1.6.20' }, runc: '1.1.5', nvidiaDriver: null,
      cni: { name: 'calico', version: LAB_CALICO },
    },
    platform: 'linux/amd64', images, decisions: [], hostChanges: [], warnings: [],
  };
}

/** The images of the lab's Kubernetes (kubeadm 1.33's defaults) and Calico, under their upstream names. */
export const LAB_IMAGES = [
  ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((c) => `registry.k8s.io/${c}:v${LAB_KUBERNETES}`),
  'registry.k8s.io/etcd:3.5.21-0', 'registry.k8s.io/coredns/coredns:v1.12.0', 'registry.k8s.io/pause:3.10',
  ...['node', 'cni', 'kube-controllers'].map((c) => `docker.io/calico/${c}:v${LAB_CALICO}`),
].map((ref) => ({ ref, component: ref.includes('calico') ? 'calico' : 'kubernetes', critical: true }));

/** Builds (or reuses) the lab bundle; `installed` is a lab node's package list, so only what it lacks is carried. */
export async function labBundle(installed: string[]): Promise<{ dir: string; lockWithImages: string }> {
  const packages = ['containerd', 'runc', 'haproxy', 'keepalived', 'curl'];
  const key = createHash('sha256').update(JSON.stringify({ packages, installed })).digest('hex').slice(0, 12);
  const work = join(LAB_CACHE, `install-bundle-${key}`);
  const dir = join(work, 'bundle');
  // The bundle carries no images (none in its lock); install's lock names the pause image for containerd's config.
  const lockWithImages = join(work, 'install-lock.yaml');
  if (!existsSync(join(dir, 'manifest.yaml'))) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    await writeFile(join(work, 'lock.yaml'), stringify(labLock([])));
    const spec = {
      apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleSpec', name: 'lab-install',
      closure: { installed },
      os: { debian: { '12': { sources: await machineAptSources(), packages } } },
    };
    await writeFile(join(work, 'spec.yaml'), stringify(spec));
    const b = await runFerry('bundle', 'build', '--lock', join(work, 'lock.yaml'), '--spec', join(work, 'spec.yaml'), '--out', dir, '--cache', join(LAB_CACHE, 'bundle-cache'), '--quiet', '--partial');
    if (b.code !== 0) throw new Error(`bundle build failed (${b.code}): ${b.err}`);
  }
  await writeFile(lockWithImages, stringify(labLock([{ ref: 'registry.k8s.io/pause:3.10', component: 'kubernetes', critical: true }])));
  await readFile(join(dir, 'manifest.yaml'));
  return { dir, lockWithImages };
}

/** One umoci fixture image (amd64) named by every LAB_IMAGES reference, as a bundle's images/ layout names them. */
async function labImageLayout(work: string, into: string): Promise<void> {
  const layout = await pushFixtures(join(work, 'fixtures'), { host: '127.0.0.1:1', only: [], layerBytes: 4096 });
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  const app = index.manifests.find((m) => m.annotations?.[REF_NAME] === 'app-a');
  if (!app) throw new Error('the fixture layout has no app-a image');
  index.manifests = LAB_IMAGES.map((i) => ({ ...app, annotations: { [REF_NAME]: i.ref, [CRITICAL]: 'true' } }));
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  await rm(into, { recursive: true, force: true });
  await rename(layout, into);
}

/** Calico's manifest as a bundle carries it: upstream's (the unit tests' trimmed copy) at the lab's version, images local. */
async function labCalicoManifest(): Promise<string> {
  const upstream = await readFile(new URL('../../phases/kube/fixtures/calico-trimmed.yaml', import.meta.url), 'utf8');
  return rewriteManifestImages(upstream.replaceAll(':master', `:v${LAB_CALICO}`), `${LOCAL_REGISTRY.name}:${LOCAL_REGISTRY.port}`).text;
}

/** Adds plain files to a built bundle as `kind` artifacts and seals it again (unsigned). */
async function addToBundle(dir: string, files: { path: string; kind: Artifact['kind']; name: string; version: string }[]): Promise<void> {
  await resealBundle(dir, await Promise.all(files.map(async (f) => ({ kind: f.kind, path: f.path, ...(await hashFile(join(dir, f.path))), source: 'ferry lab test', name: f.name, version: f.version }) as Artifact)));
}

/** The lab bundle plus the Kubernetes parts (see the header), cached by what goes into it. `addDebs` puts .debs
 * into the bundle's Debian repo and re-seals it (the stand-ins' own helper). */
export async function kubeLabBundle(
  installed: string[],
  standIns: { debs: readonly string[]; addDebs: (bundleDir: string, debs: readonly string[], workDir: string) => Promise<unknown> },
): Promise<{ dir: string; lock: string }> {
  const base = await labBundle(installed);
  const debHashes = await Promise.all(standIns.debs.map(async (d) => (await hashFile(d)).sha256));
  const calico = await labCalicoManifest();
  const key = createHash('sha256').update(JSON.stringify({ base: base.dir, debHashes, calico, images: LAB_IMAGES, layout: 1 })).digest('hex').slice(0, 12);
  const work = join(LAB_CACHE, `kube-bundle-${key}`);
  const dir = join(work, 'bundle');
  const lock = join(work, 'install-lock.yaml');
  if (!existsSync(join(work, 'done'))) {
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    await cp(base.dir, dir, { recursive: true });
    await standIns.addDebs(dir, standIns.debs, join(work, 'deb-work'));
    const manifestPath = BundleLayout.k8sManifest('calico', LAB_CALICO, 'calico.yaml');
    await mkdir(join(dir, manifestPath, '..'), { recursive: true });
    await writeFile(join(dir, manifestPath), calico);
    await mkdir(join(dir, 'files'), { recursive: true });
    await copyFile('/usr/bin/docker-registry', join(dir, 'files', 'registry'));
    await addToBundle(dir, [{ path: manifestPath, kind: 'manifest', name: 'calico.yaml', version: LAB_CALICO }]);
    await labImageLayout(work, join(dir, BundleLayout.imagesDir));
    await writeFile(join(work, 'done'), '');
  }
  await writeFile(lock, stringify(labLock(LAB_IMAGES)));
  return { dir, lock };
}
