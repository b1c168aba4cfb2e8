// Which way a bundle carries the NVIDIA driver per node kernel: the first alternative that resolves, read back from
// the artifacts the build carried (EL artifacts named as rpm names them, with version, release and arch) and from the
// manifest's record.
import { describe, expect, it } from 'vitest';
import type { Artifact } from '../../src/bundle/artifact.ts';
import { carriedDriver, gpuDriverChoices, resolveGpuSets, type Trial } from '../../src/bundle/gpu-drivers.ts';
import type { BundleManifest } from '../../src/bundle/manifest.ts';
import { gpuDriverSets } from '../../src/bundle/sources/gpu-packages.ts';
import type { Stack } from '../../src/config/lock.ts';
import { UserError } from '../../src/errors.ts';

const os: Stack['os'] = { id: 'rocky', version: '9.4', family: 'el', arch: 'amd64' };
const lock = { stack: { os, nvidiaDriver: { branch: 'R580', version: '580.95.05', kernelModule: 'open' as const } } };
const K1 = '5.14.0-427.13.1.el9_4.x86_64';
const K2 = '5.14.0-427.42.1.el9_4.x86_64';
const sets = gpuDriverSets(lock, [K1, K2]);
const pkg = (name: string, version: string, release: string, arch = 'x86_64'): Artifact => ({
  kind: 'package', path: `packages/rocky-9.4/x86_64/${name}-${version}-${release}.${arch}.rpm`, size: 1, sha256: '0'.repeat(64), source: 'dnf', name, version, release, arch,
});

describe('resolveGpuSets', () => {
  it('keeps the first alternative that resolves per kernel, and tries each package set once', async () => {
    const asked: string[][] = [];
    const resolve = async (packages: string[]): Promise<Trial<string>> => {
      asked.push(packages);
      // NVIDIA published a precompiled module for K2 only.
      return packages.includes(`kmod-nvidia-open-580.95.05-5.14.0-427.42.1`) || packages.some((p) => p.startsWith('kernel-devel'))
        ? { ok: true, value: packages[0]! }
        : { ok: false, missing: packages.filter((p) => p.startsWith('kmod-')) };
    };
    expect(await resolveGpuSets(sets, resolve)).toEqual([`kernel-devel-${K1}`, '@nvidia-driver:580-open-gpu']);
    expect(asked.map((a) => a[1] ?? a[0])).toEqual(['kmod-nvidia-open-580.95.05-5.14.0-427.13.1', 'gcc', 'kmod-nvidia-open-580.95.05-5.14.0-427.42.1']);
  });

  it('fails naming the kernel and what each alternative lacked when none resolves', async () => {
    const error = await resolveGpuSets(sets.slice(0, 1), async (packages) => ({ ok: false, missing: [packages.find((p) => p.startsWith('kmod-') || p.startsWith('kernel-devel'))!] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `cannot carry the NVIDIA driver for kernel ${K1}: precompiled: the repositories have no kmod-nvidia-open-580.95.05-5.14.0-427.13.1; dkms: the repositories have no kernel-devel-${K1}`,
    );
  });
});

describe('gpuDriverChoices', () => {
  it.each([
    {
      name: 'precompiled for one kernel (by name), DKMS for the other (kernel-devel by name-version-release.arch)',
      artifacts: [pkg('kmod-nvidia-open-580.95.05-5.14.0-427.42.1', '3:580.95.05', '1.el9_4'), pkg('kernel-devel', '5.14.0', '427.13.1.el9_4')],
      want: [
        { kernel: K1, kind: 'dkms', package: `kernel-devel-${K1}` },
        { kernel: K2, kind: 'precompiled', package: 'kmod-nvidia-open-580.95.05-5.14.0-427.42.1' },
      ],
    },
    { name: 'headers of another kernel carry nothing for these', artifacts: [pkg('kernel-devel', '5.14.0', '427.18.1.el9_4')], want: [] },
  ])('$name', ({ artifacts, want }) => {
    expect(gpuDriverChoices(sets, artifacts)).toEqual(want);
  });
});

describe('carriedDriver', () => {
  const manifest = (over: Partial<BundleManifest>): BundleManifest => ({
    apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleManifest', name: 'b', createdAt: '2026-12-07T00:00:00Z', platform: 'linux/amd64', documents: [], artifacts: [], ...over,
  });

  it("follows the manifest's record", () => {
    const m = manifest({ gpuDrivers: [{ kernel: K1, kind: 'precompiled', package: 'kmod-nvidia-open-580.95.05-5.14.0-427.13.1' }] });
    expect(carriedDriver(m, lock, K1)?.kind).toBe('precompiled');
    expect(carriedDriver(m, lock, K2)).toBeUndefined();
  });

  it('reads a bundle built before the record from its packages', () => {
    expect(carriedDriver(manifest({ artifacts: [pkg('kernel-devel', '5.14.0', '427.42.1.el9_4')] }), lock, K2)).toEqual({ kernel: K2, kind: 'dkms', package: `kernel-devel-${K2}` });
  });
});
