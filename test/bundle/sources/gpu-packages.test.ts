import { describe, expect, it } from 'vitest';
import type { Stack } from '../../../src/config/lock.ts';
import { gpuDriverInstaller, gpuDriverSets } from '../../../src/bundle/sources/gpu-packages.ts';
import { UserError } from '../../../src/errors.ts';

type Alt = { kind: 'precompiled' | 'dkms'; key: string; packages: string[] };
type Row = { name: string; os: Stack['os']; kernel: string; driver: Stack['nvidiaDriver']; want: Alt[] };
const el = (version: string): Stack['os'] => ({ id: 'rocky', version, family: 'el', arch: 'x86_64' });
const deb = (id: string, version: string): Stack['os'] => ({ id, version, family: 'debian', arch: 'amd64' });
const open = (branch: string, version: string): Stack['nvidiaDriver'] => ({ branch, version, kernelModule: 'open' });
const prop = (branch: string, version: string): Stack['nvidiaDriver'] => ({ branch, version, kernelModule: 'proprietary' });

// Kernels as the distributions ship them: Rocky 9.4 BaseOS (dl.rockylinux.org/vault/rocky/9.4/BaseOS/x86_64/os/),
// RHEL 8.10 GA, Ubuntu linux-image-*-generic (packages.ubuntu.com), Debian linux-image-6.1.0-37-amd64.
const rows: Row[] = [
  {
    name: 'Rocky 9.4, R580 open: precompiled open kmod from the 580-open-gpu stream, else DKMS (580-open + nvidia-open) with the exact kernel-devel',
    os: el('9.4'), kernel: '5.14.0-427.13.1.el9_4.x86_64', driver: open('R580', '580.95.05'),
    want: [
      { kind: 'precompiled', key: 'kmod-nvidia-open-580.95.05-5.14.0-427.13.1', packages: ['@nvidia-driver:580-open-gpu', 'kmod-nvidia-open-580.95.05-5.14.0-427.13.1', 'nvidia-driver-cuda'] },
      {
        kind: 'dkms', key: 'kernel-devel-5.14.0-427.13.1.el9_4.x86_64',
        packages: ['kernel-devel-5.14.0-427.13.1.el9_4.x86_64', 'gcc', 'make', 'dkms', '@nvidia-driver:580-open', 'nvidia-open', 'kernel-headers-5.14.0-427.13.1.el9_4.x86_64', 'elfutils-libelf-devel'],
      },
    ],
  },
  {
    name: 'RHEL 8.10, R535 proprietary: kmod-nvidia-<driver>-<kernel> from the 535 stream, else 535-dkms + cuda-drivers',
    os: el('8.10'), kernel: '4.18.0-553.el8_10.x86_64', driver: prop('535', '535.261.03'),
    want: [
      { kind: 'precompiled', key: 'kmod-nvidia-535.261.03-4.18.0-553', packages: ['@nvidia-driver:535', 'kmod-nvidia-535.261.03-4.18.0-553', 'nvidia-driver-cuda'] },
      {
        kind: 'dkms', key: 'kernel-devel-4.18.0-553.el8_10.x86_64',
        packages: ['kernel-devel-4.18.0-553.el8_10.x86_64', 'gcc', 'make', 'dkms', '@nvidia-driver:535-dkms', 'cuda-drivers', 'kernel-headers-4.18.0-553.el8_10.x86_64', 'elfutils-libelf-devel'],
      },
    ],
  },
  {
    name: 'Ubuntu 22.04, R580 open: Canonical\'s signed linux-modules-nvidia-580-server-open-<kernel>, else DKMS with linux-headers',
    os: deb('ubuntu', '22.04'), kernel: '5.15.0-105-generic', driver: open('R580', '580.95.05'),
    want: [
      { kind: 'precompiled', key: 'linux-modules-nvidia-580-server-open-5.15.0-105-generic', packages: ['linux-modules-nvidia-580-server-open-5.15.0-105-generic', 'nvidia-utils-580-server', 'nvidia-compute-utils-580-server'] },
      { kind: 'dkms', key: 'linux-headers-5.15.0-105-generic', packages: ['linux-headers-5.15.0-105-generic', 'gcc', 'make', 'dkms', 'nvidia-driver-pinning-580', 'nvidia-open-580', 'build-essential', 'libelf-dev'] },
    ],
  },
  {
    name: 'Debian 12, R535 proprietary: Debian publishes no precompiled module, DKMS only',
    os: deb('debian', '12'), kernel: '6.1.0-37-amd64', driver: prop('535', '535.261.03'),
    want: [{ kind: 'dkms', key: 'linux-headers-6.1.0-37-amd64', packages: ['linux-headers-6.1.0-37-amd64', 'gcc', 'make', 'dkms', 'nvidia-driver-pinning-535', 'cuda-drivers-535', 'build-essential', 'libelf-dev'] }],
  },
];

describe('gpuDriverSets', () => {
  it.each(rows)('$name', ({ os, kernel, driver, want }) => {
    expect(gpuDriverSets({ stack: { os, nvidiaDriver: driver } }, [kernel])).toEqual([{ kernel, alternatives: want }]);
  });

  it('gives each distinct node kernel its own set, once', () => {
    const lock = { stack: { os: el('9.4'), nvidiaDriver: open('R580', '580.95.05') } };
    const sets = gpuDriverSets(lock, ['5.14.0-427.13.1.el9_4.x86_64', '5.14.0-427.42.1.el9_4.x86_64', '5.14.0-427.13.1.el9_4.x86_64']);
    expect(sets.map((s) => s.kernel)).toEqual(['5.14.0-427.13.1.el9_4.x86_64', '5.14.0-427.42.1.el9_4.x86_64']);
  });

  it('carries nothing and asks for no kernel when the lock has no NVIDIA driver', () => {
    expect(gpuDriverSets({ stack: { os: el('9.4'), nvidiaDriver: null } }, [])).toEqual([]);
  });

  it('refuses a GPU lock without kernels (exit 2), naming --kernel and how to read it', () => {
    const error = (() => {
      try {
        gpuDriverSets({ stack: { os: el('9.4'), nvidiaDriver: open('R580', '580.95.05') } }, []);
      } catch (e) {
        return e;
      }
    })() as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('the lock has NVIDIA driver 580.95.05, which must be built for the exact kernel of each GPU node, and no kernel was named');
    expect(error.hint).toContain('pass --kernel for each GPU node\'s kernel');
    expect(error.hint).toContain('`uname -r`');
    expect(error.hint).toContain('ferry doctor');
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
