// Test support: a PhaseContext for phase unit tests: the renderer tests' inventory and lock (test/render/fixtures),
// a bundle manifest with an OS repository, and node facts already known (as preflight leaves them).
import { readFileSync } from 'node:fs';
import { Inventory } from '../../src/config/inventory.ts';
import { Lock } from '../../src/config/lock.ts';
import { parseYaml } from '../../src/config/parse.ts';
import type { BundleManifest } from '../../src/bundle/manifest.ts';
import { rememberNodeFacts } from '../../src/phases/node-facts.ts';
import { parseNodeFacts } from '../../src/facts/node.ts';
import { nodeGatherOutput } from '../facts/fixtures.ts';
import type { PhaseContext } from '../../src/phases/phase.ts';
import { newRunState } from '../../src/phases/run-state.ts';
import { FakeHost } from '../support/fake-host.ts';
import { fixture } from './fixtures.ts';

const renderFixture = (name: string) => readFileSync(new URL(`../render/fixtures/${name}`, import.meta.url), 'utf8');

const sha = (c: string) => c.repeat(64);

/** A manifest with one repository for `os` (rpm + repodata + a GPG key, or debs + Packages) holding the lock's
 * containerd.io, kubeadm, kubelet, kubectl and driver as their repositories name them, and the registry binary. */
export function manifestFor(os: { id: string; version: string }, family: 'el' | 'debian', stack?: Lock['stack']): BundleManifest {
  const dir = `packages/${os.id}-${os.version}/${family === 'el' ? 'x86_64' : 'amd64'}`;
  if (!stack) return plainManifest(dir, family);
  const pkg = (name: string, version: string, file: string, c: string) => ({ kind: 'package' as const, path: `${dir}/${file}`, size: 10, sha256: sha(c), source: 'test', name, version });
  const k8s = stack.kubernetes;
  const branch = stack.nvidiaDriver ? /\d+/.exec(stack.nvidiaDriver.branch)![0] : undefined;
  const artifacts: BundleManifest['artifacts'] = family === 'el'
    ? [
        pkg('containerd.io', `${stack.cri.version}-3.1.el8`, `containerd.io-${stack.cri.version}-3.1.el8.x86_64.rpm`, 'a'),
        ...['kubeadm', 'kubelet', 'kubectl'].map((k, i) => pkg(k, `${k8s}-150500.1.1`, `${k}-${k8s}-150500.1.1.x86_64.rpm`, String(i + 1))),
        ...(branch ? [pkg('nvidia-open', `3:${stack.nvidiaDriver!.version}-1.el8`, `nvidia-open-${stack.nvidiaDriver!.version}-1.el8.noarch.rpm`, '5')] : []),
        { kind: 'repo-metadata', path: `${dir}/repodata/repomd.xml`, size: 10, sha256: sha('b'), source: 'test' },
        { kind: 'repo-metadata', path: `${dir}/RPM-GPG-KEY-Rocky-8`, size: 10, sha256: sha('c'), source: 'test' },
      ]
    : [
        pkg('containerd.io', `${stack.cri.version}-1`, `containerd.io_${stack.cri.version}-1_amd64.deb`, 'a'),
        ...['kubeadm', 'kubelet', 'kubectl'].map((k, i) => pkg(k, `${k8s}-1.1`, `${k}_${k8s}-1.1_amd64.deb`, String(i + 1))),
        ...(branch ? [pkg(`nvidia-open-${branch}`, `${stack.nvidiaDriver!.version}-1`, `nvidia-open-${branch}_${stack.nvidiaDriver!.version}-1_amd64.deb`, '5')] : []),
        { kind: 'repo-metadata', path: `${dir}/Packages`, size: 10, sha256: sha('b'), source: 'test' },
      ];
  artifacts.push({ kind: 'file', path: 'files/registry/2.8.3/registry', size: 20, sha256: sha('d'), source: 'test', name: 'registry', version: '2.8.3' });
  artifacts.push({ kind: 'image-blob', path: `images/blobs/sha256/${sha('e')}`, size: 99, sha256: sha('e'), source: 'test' });
  return { apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleManifest', name: 't', createdAt: '2026-11-23T00:00:00Z', platform: 'linux/amd64', documents: [], artifacts };
}

/** Three OS package files and two more files: what the copy tests count. */
function plainManifest(dir: string, family: 'el' | 'debian'): BundleManifest {
  const artifacts: BundleManifest['artifacts'] = family === 'el'
    ? [
        { kind: 'package', path: `${dir}/containerd.io-1.7.28-3.1.el8.x86_64.rpm`, size: 10, sha256: sha('a'), source: 'test' },
        { kind: 'repo-metadata', path: `${dir}/repodata/repomd.xml`, size: 10, sha256: sha('b'), source: 'test' },
        { kind: 'repo-metadata', path: `${dir}/RPM-GPG-KEY-Rocky-8`, size: 10, sha256: sha('c'), source: 'test' },
      ]
    : [
        { kind: 'package', path: `${dir}/containerd_1.6.20~ds1-1+deb12u3_amd64.deb`, size: 10, sha256: sha('a'), source: 'test' },
        { kind: 'repo-metadata', path: `${dir}/Packages`, size: 10, sha256: sha('b'), source: 'test' },
      ];
  artifacts.push({ kind: 'file', path: 'files/kubernetes/1.33.4/kubeadm', size: 20, sha256: sha('d'), source: 'test' });
  artifacts.push({ kind: 'image-blob', path: `images/blobs/sha256/${sha('e')}`, size: 99, sha256: sha('e'), source: 'test' });
  return { apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleManifest', name: 't', createdAt: '2026-11-23T00:00:00Z', platform: 'linux/amd64', documents: [], artifacts };
}

/** A context for the OS family `family` on every host of the inventory (addresses 10.20.0.x on eth0). */
export function phaseContext(family: 'el' | 'debian', options: { hosts?: string[]; plainBundle?: boolean } = {}): PhaseContext {
  const inventory = parseYaml(renderFixture('cluster.yaml'), 'cluster.yaml', Inventory);
  if (options.hosts) inventory.hosts = inventory.hosts.filter((h) => options.hosts!.includes(h.name));
  const lock = parseYaml(renderFixture('ferry.lock.yaml'), 'ferry.lock.yaml', Lock);
  lock.stack.os = family === 'el' ? { id: 'rocky', version: '8.6', family: 'el', arch: 'x86_64' } : { id: 'debian', version: '12', family: 'debian', arch: 'amd64' };
  const ctx: PhaseContext = {
    inventory, lock, bundleDir: '/bundle', state: newRunState({ vrrpPassword: 'Te5tPa55', bundleManifest: manifestFor(lock.stack.os, family, options.plainBundle ? undefined : lock.stack) }),
    admin: new FakeHost('admin host'),
    addSecret: () => {}, now: () => new Date('2026-11-23T12:00:00Z'),
  };
  const osRelease = fixture(family === 'el' ? 'rocky86-os-release' : 'debian12-os-release');
  for (const h of inventory.hosts) {
    rememberNodeFacts(ctx.state, h.name, parseNodeFacts(h.name, nodeGatherOutput(osRelease, h.address), h.address));
  }
  return ctx;
}
