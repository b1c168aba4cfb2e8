import { beforeAll, describe, expect, it } from 'vitest';
import { Lock } from '../../src/config/lock.ts';
import type { Catalog } from '../../src/matrix/catalog.ts';
import { imagesFor } from '../../src/matrix/images.ts';
import { toLock } from '../../src/matrix/to-lock.ts';
import { NOW, realMatrix, resolveRaw } from './fixture.ts';

let catalog: Catalog;
let digest: string;
beforeAll(async () => {
  const m = await realMatrix();
  catalog = m.catalog;
  digest = m.digest;
});

describe('imagesFor', () => {
  it('lists the kubeadm images of the minor (release-1.32 constants.go), Calico and the device plugin', () => {
    const res = resolveRaw(catalog, { os: 'rocky-9.4', gpu: 'h100', k8s: '1.32' });
    if (!res.ok) throw new Error('expected a stack');
    expect(imagesFor(catalog, res)).toEqual([
      { ref: 'registry.k8s.io/kube-apiserver:v1.32.13', component: 'kubernetes', critical: false },
      { ref: 'registry.k8s.io/kube-controller-manager:v1.32.13', component: 'kubernetes', critical: false },
      { ref: 'registry.k8s.io/kube-scheduler:v1.32.13', component: 'kubernetes', critical: false },
      { ref: 'registry.k8s.io/kube-proxy:v1.32.13', component: 'kubernetes', critical: true },
      { ref: 'registry.k8s.io/pause:3.10', component: 'kubernetes', critical: true },
      { ref: 'registry.k8s.io/etcd:3.5.24-0', component: 'etcd', critical: false },
      { ref: 'registry.k8s.io/coredns/coredns:v1.11.3', component: 'coredns', critical: true },
      { ref: 'quay.io/calico/node:v3.31.7', component: 'calico', critical: true },
      { ref: 'quay.io/calico/cni:v3.31.7', component: 'calico', critical: true },
      { ref: 'quay.io/calico/kube-controllers:v3.31.7', component: 'calico', critical: true },
      { ref: 'nvcr.io/nvidia/k8s-device-plugin:v0.18.2', component: 'nvidia-device-plugin', critical: true },
    ]);
  });

  it('follows a pinned CNI patch, keeps fixed tags, and leaves out the device plugin without a GPU', () => {
    const res = resolveRaw(catalog, { os: 'debian-12', cni: 'flannel', pins: ['flannel=0.27.1'] });
    if (!res.ok) throw new Error('expected a stack');
    const refs = imagesFor(catalog, res).map((i) => i.ref);
    expect(refs).toContain('ghcr.io/flannel-io/flannel:v0.27.1');
    expect(refs).toContain('ghcr.io/flannel-io/flannel-cni-plugin:v1.8.0-flannel1');
    expect(refs.some((r) => r.includes('k8s-device-plugin'))).toBe(false);
    expect(res.warnings.join('\n')).toMatch(/does not enforce NetworkPolicy/);
  });
});

describe('toLock', () => {
  it('builds a lock that validates against the Lock schema', () => {
    const raw = { os: 'ubuntu-24.04', gpu: 'b200', pins: ['nvidia-driver=580'], arch: 'arm64' };
    const res = resolveRaw(catalog, raw);
    if (!res.ok) throw new Error('expected a stack');
    const lock = Lock.parse(toLock(catalog, res, { raw, now: NOW, matrixDigest: digest }));
    expect(lock).toMatchObject({ resolvedAt: '2026-12-07T00:00:00.000Z', matrixDigest: digest, platform: 'linux/arm64', gpu: { model: 'b200', architecture: 'blackwell' }, request: raw });
    expect(lock.images.every((i) => /^[a-z0-9.-]+\.[a-z]+\/.+:.+$/.test(i.ref))).toBe(true);
  });
});
