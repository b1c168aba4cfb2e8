// preflight's GPU gate, before any node changes: a GPU node whose running kernel (uname -r from the facts preflight
// reads) has neither a precompiled driver nor headers in the bundle is refused, naming host, kernel and the build fix.
import { describe, expect, it } from 'vitest';
import type { Artifact } from '../../src/bundle/artifact.ts';
import type { BundleManifest } from '../../src/bundle/manifest.ts';
import type { Stack } from '../../src/config/lock.ts';
import { gpuKernelRefusal } from '../../src/phases/preflight.ts';

const os: Stack['os'] = { id: 'rocky', version: '9.4', family: 'el', arch: 'amd64' };
const gpu = { stack: { os, kernel: '5.14.0-427', nvidiaDriver: { branch: 'R580', version: '580.95.05', kernelModule: 'open' as const } } } as never;
const cpu = { stack: { os, kernel: '5.14.0-427', nvidiaDriver: null } } as never;
const devel = (release: string): Artifact => ({ kind: 'package', path: `packages/rocky-9.4/x86_64/kernel-devel-5.14.0-${release}.x86_64.rpm`, size: 1, sha256: '0'.repeat(64), source: 'dnf', name: 'kernel-devel', version: '5.14.0', release, arch: 'x86_64' });
const manifest = (over: Partial<BundleManifest>): BundleManifest => ({
  apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleManifest', name: 'b', createdAt: '2026-12-07T00:00:00Z', platform: 'linux/amd64', documents: [], artifacts: [], ...over,
});
const K = '5.14.0-427.42.1.el9_4.x86_64';

describe('gpuKernelRefusal', () => {
  it.each([
    { name: 'headers of the running kernel in the bundle: no refusal', lock: gpu, m: manifest({ artifacts: [devel('427.42.1.el9_4')] }), want: undefined },
    { name: 'the manifest records a precompiled module for it: no refusal', lock: gpu, m: manifest({ gpuDrivers: [{ kernel: K, kind: 'precompiled', package: 'kmod-nvidia-open-580.95.05-5.14.0-427.42.1' }] }), want: undefined },
    { name: 'a CPU lock asks nothing', lock: cpu, m: manifest({}), want: undefined },
    {
      name: 'built for another kernel: refused, naming host, kernel, what the bundle has and the build command',
      lock: gpu,
      m: manifest({ artifacts: [devel('427.13.1.el9_4')], gpuDrivers: [{ kernel: '5.14.0-427.13.1.el9_4.x86_64', kind: 'dkms', package: 'kernel-devel-5.14.0-427.13.1.el9_4.x86_64' }] }),
      want: {
        message: `gpu-1 runs kernel ${K}, and the bundle carries neither a precompiled NVIDIA 580.95.05 driver nor the kernel headers for it (it carries the driver for 5.14.0-427.13.1.el9_4.x86_64)`,
        hint: `rebuild the bundle for this kernel: ferry bundle build --lock ferry.lock.yaml --spec SPEC --kernel ${K} --out DIR (one --kernel per GPU node kernel)`,
      },
    },
  ])('$name', ({ lock, m, want }) => {
    const r = gpuKernelRefusal('gpu-1', K, lock, m);
    expect(r === undefined ? undefined : { message: r.message, hint: r.hint }).toEqual(want);
  });
});
