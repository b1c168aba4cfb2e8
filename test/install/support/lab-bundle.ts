// Test support: a real bundle for the lab, built by `ferry bundle build` from the machine's own apt sources
// (read at test time): containerd, runc, HAProxy, keepalived, curl and the dependencies a lab node lacks.
// Cached under /var/cache/ferry-test (rebuilt when missing); the build's download cache makes a rebuild cheap.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { machineAptSources } from '../../support/apt-sources.ts';
import { runFerry } from '../../cli/support/run-ferry.ts';

export const LAB_CACHE = '/var/cache/ferry-test';

/** The lock the lab installs: Debian 12 as the nodes run it, containerd 1.6 as Debian ships it. */
export function labLock(images: { ref: string; component: string; critical: boolean }[]) {
  return {
    apiVersion: 'ferry.dev/v1alpha1', kind: 'Lock', resolvedAt: '2026-11-23T00:00:00Z',
    matrixDigest: `sha256:${'0'.repeat(64)}`, request: { os: 'debian-12' }, gpu: null,
    stack: {
      os: { id: 'debian', version: '12', family: 'debian', arch: 'amd64' }, kernel: '6.1.0-37-amd64', cgroup: 'v2',
      kubernetes: '1.33.1', cri: { name: 'containerd', version: '1.6.20' }, runc: '1.1.5', nvidiaDriver: null,
      cni: { name: 'calico', version: '3.30.2' },
    },
    platform: 'linux/amd64', images, decisions: [], hostChanges: [], warnings: [],
  };
}

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
    const b = await runFerry('bundle', 'build', '--lock', join(work, 'lock.yaml'), '--spec', join(work, 'spec.yaml'), '--out', dir, '--cache', join(LAB_CACHE, 'bundle-cache'), '--quiet');
    if (b.code !== 0) throw new Error(`bundle build failed (${b.code}): ${b.err}`);
  }
  await writeFile(lockWithImages, stringify(labLock([{ ref: 'registry.k8s.io/pause:3.10', component: 'kubernetes', critical: true }])));
  await readFile(join(dir, 'manifest.yaml'));
  return { dir, lockWithImages };
}
