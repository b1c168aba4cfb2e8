// Lock = bundle: each way a bundle can differ from its lock, with the message it gives.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleContents, lockMismatches, renderMismatches, upstreamVersion, type BundleContents } from '../../src/bundle/lock-match.ts';
import { Lock } from '../../src/config/lock.ts';
import { parseYaml } from '../../src/config/parse.ts';

const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');
const debian = parseYaml(read('./fixtures/lock-debian12-cpu.yaml'), 'lock-debian12-cpu.yaml', Lock);
const rocky = parseYaml(read('./fixtures/lock-rocky9-h100.yaml'), 'lock-rocky9-h100.yaml', Lock);

/** A bundle that matches the Debian lock exactly (Docker's and pkgs.k8s.io's version strings). */
const matching: BundleContents = {
  packages: [
    { name: 'containerd.io', version: '2.0.8-1' },
    { name: 'kubeadm', version: '1.33.13-1.1' },
    { name: 'kubelet', version: '1.33.13-1.1' },
    { name: 'kubectl', version: '1.33.13-1.1' },
    { name: 'haproxy', version: '2.6.12-1+deb12u3' },
  ],
  files: [{ component: 'registry', name: 'registry', version: '2.8.3' }],
  images: debian.images.map((i) => i.ref),
};

describe('upstreamVersion', () => {
  it.each([
    ['1.6.20~ds1-1+deb12u3', '1.6.20'],
    ['2.0.8-1', '2.0.8'],
    ['1:2.0.8', '2.0.8'],
    ['1.33.13-150500.1.1', '1.33.13'],
    ['2.1.9+ds1-5', '2.1.9'],
    ['580.95.05-1', '580.95.05'],
  ])('%s → %s', (v, want) => expect(upstreamVersion(v)).toBe(want));
});

describe('lockMismatches', () => {
  it('finds nothing when the bundle carries what the lock says', () => expect(lockMismatches(debian, matching)).toEqual([]));

  it.each<[string, (b: BundleContents) => BundleContents, RegExp]>([
    [
      "the distribution's containerd instead of the lock's",
      (b) => ({ ...b, packages: [...b.packages.filter((p) => p.name !== 'containerd.io'), { name: 'containerd', version: '1.6.20~ds1-1+deb12u3' }] }),
      /^containerd: the lock wants 2\.0\.8, the bundle has containerd 1\.6\.20~ds1-1\+deb12u3 \(list containerd\.io at the lock's version/,
    ],
    ['no containerd at all', (b) => ({ ...b, packages: b.packages.filter((p) => p.name !== 'containerd.io') }), /^containerd: the lock wants 2\.0\.8, the bundle has nothing/],
    ['kubelet of another patch', (b) => ({ ...b, packages: b.packages.map((p) => (p.name === 'kubelet' ? { ...p, version: '1.33.12-1.1' } : p)) }), /^kubelet: the lock wants 1\.33\.13, the bundle has kubelet 1\.33\.12-1\.1/],
    ['no kubeadm', (b) => ({ ...b, packages: b.packages.filter((p) => p.name !== 'kubeadm') }), /^kubeadm: the lock wants 1\.33\.13, the bundle has nothing \(list kubeadm at the lock's version/],
    ['a separate runc of another version', (b) => ({ ...b, packages: [...b.packages, { name: 'runc', version: '1.1.5+ds1-1+deb12u1' }] }), /^runc: the lock wants 1\.3\.5, the bundle has runc 1\.1\.5\+ds1-1\+deb12u1/],
    ['no registry binary', (b) => ({ ...b, files: [] }), /^registry: the lock wants the distribution registry binary, the bundle has nothing/],
    ['an etcd tag kubeadm would not find', (b) => ({ ...b, images: b.images.filter((i) => !i.startsWith('registry.k8s.io/etcd:')) }), /^etcd: the lock wants registry\.k8s\.io\/etcd:3\.5\.24-0, the bundle has nothing/],
  ])('%s', (_name, change, message) => {
    const found = lockMismatches(debian, change(matching));
    expect(found).toHaveLength(1);
    expect(renderMismatches(found)).toMatch(message);
  });

  it('wants the locked driver branch on a GPU lock, and refuses another branch', () => {
    const rockyBundle: BundleContents = {
      packages: [
        { name: 'containerd.io', version: '2.0.8-1.el9' },
        ...['kubeadm', 'kubelet', 'kubectl'].map((name) => ({ name, version: '1.33.13-150500.1.1' })),
        { name: 'nvidia-open', version: '3:580.126.18-1.el9' },
      ],
      files: matching.files,
      images: rocky.images.map((i) => i.ref),
    };
    expect(lockMismatches(rocky, rockyBundle)).toEqual([]);
    const other = { ...rockyBundle, packages: rockyBundle.packages.map((p) => (p.name === 'nvidia-open' ? { ...p, version: '3:570.195.03-1.el9' } : p)) };
    expect(renderMismatches(lockMismatches(rocky, other))).toMatch(/^nvidia-driver: the lock wants branch 580, the bundle has nvidia-open 3:570\.195\.03-1\.el9/);
    const none = { ...rockyBundle, packages: rockyBundle.packages.filter((p) => p.name !== 'nvidia-open') };
    expect(renderMismatches(lockMismatches(rocky, none))).toMatch(/^nvidia-driver: the lock wants branch 580, the bundle has nothing/);
  });
});

describe('bundleContents', () => {
  it('reads packages and files from artifact records and image names from the OCI index', () => {
    const artifacts = [
      { kind: 'package', name: 'kubeadm', version: '1.33.13-1.1', path: 'packages/debian-12/amd64/kubeadm_1.33.13-1.1_amd64.deb' },
      { kind: 'file', name: 'registry', version: '2.8.3', path: 'files/registry/2.8.3/registry' },
      { kind: 'repo-metadata', path: 'packages/debian-12/amd64/Packages' },
    ];
    const index = JSON.stringify({ manifests: [{ annotations: { 'org.opencontainers.image.ref.name': 'registry.k8s.io/pause:3.10' } }, {}] });
    expect(bundleContents(artifacts, index)).toEqual({
      packages: [{ name: 'kubeadm', version: '1.33.13-1.1' }],
      files: [{ component: 'registry', name: 'registry', version: '2.8.3' }],
      images: ['registry.k8s.io/pause:3.10'],
    });
  });
});
