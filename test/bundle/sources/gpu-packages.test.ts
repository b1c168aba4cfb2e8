import { describe, expect, it } from 'vitest';
import type { Stack } from '../../../src/config/lock.ts';
import { gpuBuildPackages, gpuDriverInstaller } from '../../../src/bundle/sources/gpu-packages.ts';

type Row = { name: string; os: Stack['os']; kernel: string; driver: Stack['nvidiaDriver']; want: string[] };
const el = (version: string): Stack['os'] => ({ id: 'rocky', version, family: 'el', arch: 'x86_64' });
const deb = (id: string, version: string): Stack['os'] => ({ id, version, family: 'debian', arch: 'amd64' });
const open = (branch: string, version: string): Stack['nvidiaDriver'] => ({ branch, version, kernelModule: 'open' });
const prop = (branch: string, version: string): Stack['nvidiaDriver'] => ({ branch, version, kernelModule: 'proprietary' });

const rows: Row[] = [
  {
    name: 'Rocky 9.4, R580 open: module stream 580-open + nvidia-open, headers of the exact kernel',
    os: el('9.4'), kernel: '5.14.0-427.13.1.el9_4.x86_64', driver: open('R580', '580.95.05'),
    want: ['kernel-devel-5.14.0-427.13.1.el9_4.x86_64', 'kernel-headers-5.14.0-427.13.1.el9_4.x86_64', 'gcc', 'make', 'elfutils-libelf-devel', '@nvidia-driver:580-open', 'nvidia-open'],
  },
  {
    name: 'RHEL 8.10, R535 proprietary: module stream 535-dkms + cuda-drivers',
    os: el('8.10'), kernel: '4.18.0-553.el8_10.x86_64', driver: prop('535', '535.261.03'),
    want: ['kernel-devel-4.18.0-553.el8_10.x86_64', 'kernel-headers-4.18.0-553.el8_10.x86_64', 'gcc', 'make', 'elfutils-libelf-devel', '@nvidia-driver:535-dkms', 'cuda-drivers'],
  },
  {
    name: 'EL 10 has no module streams',
    os: el('10.0'), kernel: '6.12.0-55.9.1.el10_0.x86_64', driver: open('R580', '580.95.05'),
    want: ['kernel-devel-6.12.0-55.9.1.el10_0.x86_64', 'kernel-headers-6.12.0-55.9.1.el10_0.x86_64', 'gcc', 'make', 'elfutils-libelf-devel', 'nvidia-open'],
  },
  {
    name: 'Ubuntu 24.04, R580 open: pinning + nvidia-open-580',
    os: deb('ubuntu', '24.04'), kernel: '6.8.0-60-generic', driver: open('R580', '580.95.05'),
    want: ['linux-headers-6.8.0-60-generic', 'build-essential', 'libelf-dev', 'nvidia-driver-pinning-580', 'nvidia-open-580'],
  },
  {
    name: 'Ubuntu 22.04, R595 open: the branch left the package name',
    os: deb('ubuntu', '22.04'), kernel: '5.15.0-140-generic', driver: open('R595', '595.45.04'),
    want: ['linux-headers-5.15.0-140-generic', 'build-essential', 'libelf-dev', 'nvidia-driver-pinning-595', 'nvidia-open'],
  },
  {
    name: 'Debian 12, R535 proprietary: cuda-drivers-535',
    os: deb('debian', '12'), kernel: '6.1.0-37-amd64', driver: prop('535', '535.261.03'),
    want: ['linux-headers-6.1.0-37-amd64', 'build-essential', 'libelf-dev', 'nvidia-driver-pinning-535', 'cuda-drivers-535'],
  },
  { name: 'no GPU, no packages', os: el('9.4'), kernel: '5.14.0-427.13.1.el9_4.x86_64', driver: null, want: [] },
];

describe('gpuBuildPackages', () => {
  it.each(rows)('$name', ({ os, kernel, driver, want }) => {
    expect(gpuBuildPackages({ stack: { os, kernel, nvidiaDriver: driver } })).toEqual(want);
  });

  it("takes the nodes' exact kernels over the lock's kernel series, headers for each, once", () => {
    // The lock says 5.14.0-427 (the release's series, from the matrix); the nodes run two builds of it.
    const lock = { stack: { os: el('9.4'), kernel: '5.14.0-427', nvidiaDriver: open('R580', '580.95.05') } };
    const nodes = ['5.14.0-427.13.1.el9_4.x86_64', '5.14.0-427.42.1.el9_4.x86_64', '5.14.0-427.13.1.el9_4.x86_64'];
    expect(gpuBuildPackages(lock, nodes)).toEqual([
      'kernel-devel-5.14.0-427.13.1.el9_4.x86_64',
      'kernel-headers-5.14.0-427.13.1.el9_4.x86_64',
      'kernel-devel-5.14.0-427.42.1.el9_4.x86_64',
      'kernel-headers-5.14.0-427.42.1.el9_4.x86_64',
      'gcc',
      'make',
      'elfutils-libelf-devel',
      '@nvidia-driver:580-open',
      'nvidia-open',
    ]);
    expect(gpuBuildPackages({ stack: { ...lock.stack, os: deb('ubuntu', '24.04') } }, ['6.8.0-60-generic'])[0]).toBe('linux-headers-6.8.0-60-generic');
  });
});

describe('gpuDriverInstaller', () => {
  it('names the .run installer of the exact locked version for the target arch', () => {
    expect(gpuDriverInstaller({ stack: { os: deb('ubuntu', '24.04'), nvidiaDriver: open('R580', '580.95.05') } })).toEqual({
      url: 'https://us.download.nvidia.com/tesla/580.95.05/NVIDIA-Linux-x86_64-580.95.05.run',
      component: 'nvidia-driver',
      version: '580.95.05',
      name: 'NVIDIA-Linux-x86_64-580.95.05.run',
      mode: 0o755,
    });
    expect(gpuDriverInstaller({ stack: { os: { ...el('9.4'), arch: 'aarch64' }, nvidiaDriver: open('R580', '580.95.05') } })!.name).toBe('NVIDIA-Linux-aarch64-580.95.05.run');
    expect(gpuDriverInstaller({ stack: { os: el('9.4'), nvidiaDriver: null } })).toBeUndefined();
  });
});
