// Which node kernels a GPU bundle accepts for the lock's OS. Kernels as the distributions ship them: Rocky 9.4
// BaseOS (dl.rockylinux.org/vault/rocky/9.4/BaseOS/x86_64/os/Packages/k/), RHEL 8.10, Ubuntu and Debian
// linux-image-* package names (packages.ubuntu.com, packages.debian.org).
import { describe, expect, it } from 'vitest';
import type { Stack } from '../../src/config/lock.ts';
import { UserError } from '../../src/errors.ts';
import { kernelMismatch, requireGpuKernels } from '../../src/gpu/kernel-release.ts';

const rocky94: Stack['os'] = { id: 'rocky', version: '9.4', family: 'el', arch: 'amd64' };
const ubuntu: Stack['os'] = { id: 'ubuntu', version: '22.04', family: 'debian', arch: 'amd64' };
const debian: Stack['os'] = { id: 'debian', version: '12', family: 'debian', arch: 'amd64' };
const driver: Stack['nvidiaDriver'] = { branch: 'R580', version: '580.95.05', kernelModule: 'open' };

describe('kernelMismatch', () => {
  it.each([
    { name: 'the Rocky 9.4 GA kernel fits a Rocky 9.4 lock', os: rocky94, kernel: '5.14.0-427.13.1.el9_4.x86_64', want: undefined },
    { name: 'a later 9.4 errata kernel fits too', os: rocky94, kernel: '5.14.0-427.42.1.el9_4.x86_64', want: undefined },
    { name: 'an .el8 kernel on a Rocky 9 lock', os: rocky94, kernel: '4.18.0-553.el8_10.x86_64', want: '4.18.0-553.el8_10.x86_64 is an EL 8 kernel, but the lock is for rocky 9.4' },
    {
      name: 'a 9.5 kernel on a 9.4 lock: the 9.4 repositories cannot have its headers',
      os: rocky94, kernel: '5.14.0-503.14.1.el9_5.x86_64',
      want: '5.14.0-503.14.1.el9_5.x86_64 belongs to rocky 9.5, but the lock (and the repositories it resolves against) is rocky 9.4',
    },
    { name: 'a Debian kernel on an EL lock', os: rocky94, kernel: '6.1.0-37-amd64', want: '6.1.0-37-amd64 is not an Enterprise Linux kernel (uname -r there ends in .el9[_N].<arch>)' },
    { name: 'the lock\'s kernel series is no uname -r', os: rocky94, kernel: '5.14.0-427', want: '5.14.0-427 is not an Enterprise Linux kernel (uname -r there ends in .el9[_N].<arch>)' },
    { name: 'an aarch64 kernel on an amd64 lock', os: rocky94, kernel: '5.14.0-427.13.1.el9_4.aarch64', want: '5.14.0-427.13.1.el9_4.aarch64 is an aarch64 kernel, but the lock is for x86_64' },
    { name: 'an Ubuntu generic kernel fits Ubuntu', os: ubuntu, kernel: '5.15.0-105-generic', want: undefined },
    { name: 'a Debian cloud kernel fits Debian', os: debian, kernel: '6.1.0-37-cloud-amd64', want: undefined },
    { name: 'an EL kernel on a Debian lock', os: debian, kernel: '5.14.0-427.13.1.el9_4.x86_64', want: '5.14.0-427.13.1.el9_4.x86_64 is an EL 9 kernel, but the lock is for debian 12' },
    { name: 'a Debian 12 backports kernel fits Debian (no ABI number)', os: debian, kernel: '6.12.12+bpo-amd64', want: undefined },
    { name: 'a site-built kernel fits Debian (make bindeb-pkg names its headers linux-headers-<uname -r>)', os: debian, kernel: '6.18.44-fc-v1300', want: undefined },
    { name: 'a bare version on Ubuntu', os: ubuntu, kernel: '5.15.0', want: '5.15.0 is not a ubuntu kernel (uname -r there looks like 5.15.0-105-generic)' },
  ])('$name', ({ os, kernel, want }) => {
    expect(kernelMismatch(os, kernel)).toBe(want);
  });
});

describe('requireGpuKernels', () => {
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e as UserError;
    }
    throw new Error('not refused');
  };

  it('refuses a GPU lock without kernels with exit 2, naming --kernel, uname -r and ferry doctor', () => {
    const e = refusal(() => requireGpuKernels({ os: rocky94, nvidiaDriver: driver }, [], 'x'));
    expect(e).toBeInstanceOf(UserError);
    expect(e.exitCode).toBe(2);
    expect(e.hint).toBe(
      "pass --kernel for each GPU node's kernel (or list them under kernels: in the spec); read it on each GPU node with `uname -r` (or from `ferry doctor -i cluster.yaml --json`, facts.kernel per host), e.g. --kernel 5.14.0-427.13.1.el9_4.x86_64",
    );
  });

  it('refuses every kernel of another OS at once, saying where they came from', () => {
    const e = refusal(() => requireGpuKernels({ os: rocky94, nvidiaDriver: driver }, ['4.18.0-553.el8_10.x86_64', '6.1.0-37-amd64'], '--kernel'));
    expect(e.message).toBe(
      '--kernel: 4.18.0-553.el8_10.x86_64 is an EL 8 kernel, but the lock is for rocky 9.4; 6.1.0-37-amd64 is not an Enterprise Linux kernel (uname -r there ends in .el9[_N].<arch>)',
    );
  });

  it('asks nothing of a lock without an NVIDIA driver', () => {
    expect(requireGpuKernels({ os: rocky94, nvidiaDriver: null }, [], 'x')).toEqual([]);
  });

  it('keeps each kernel once', () => {
    expect(requireGpuKernels({ os: ubuntu, nvidiaDriver: driver }, ['5.15.0-105-generic', '5.15.0-105-generic'], 'x')).toEqual(['5.15.0-105-generic']);
  });
});
