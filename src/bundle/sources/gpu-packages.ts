// The OS packages a GPU node needs to build and load the NVIDIA driver of the lock on its exact kernel. Pure.
//
// Driver package names follow NVIDIA's driver installation guide ("Kernel Modules", open GPU kernel module
// installation table, docs.nvidia.com/datacenter/tesla/driver-installation-guide/kernel-modules.html):
//   EL 8/9:  `dnf module enable nvidia-driver:<branch>-open` + `dnf install nvidia-open` (proprietary: the
//            `<branch>-dkms` stream + `cuda-drivers`); EL 10 has no module streams, only `nvidia-open`.
//   Ubuntu/Debian (NVIDIA CUDA apt repo): `nvidia-driver-pinning-<branch>` locks the branch; up to 580 the driver
//            is `nvidia-open-<branch>` / `cuda-drivers-<branch>`, from 590 the branch leaves the name
//            (`nvidia-open`, `cuda-drivers`; "Recent Updates: Ubuntu 590 package renames").
import type { Stack } from '../../config/lock.ts';
import type { FileSpec } from './files.ts';

/** The branch number of `R580`, `580` or `580-open`. */
function branchNumber(branch: string): number {
  const n = Number(/\d+/.exec(branch)?.[0]);
  return Number.isInteger(n) ? n : Number.NaN;
}

/**
 * Packages to add to the bundle's OS package list for the lock's GPU driver: headers of each node kernel, compiler,
 * libelf, driver. `kernels` are the nodes' exact `uname -r`; without them, the lock's kernel.
 */
export function gpuBuildPackages(lock: { stack: Pick<Stack, 'os' | 'kernel' | 'nvidiaDriver'> }, kernels: readonly string[] = []): string[] {
  const { os, nvidiaDriver: driver } = lock.stack;
  if (driver === null) return [];
  const targets = kernels.length > 0 ? [...new Set(kernels)] : [lock.stack.kernel];
  const build =
    os.family === 'el'
      ? [...targets.flatMap((k) => [`kernel-devel-${k}`, `kernel-headers-${k}`]), 'gcc', 'make', 'elfutils-libelf-devel']
      : [...targets.map((k) => `linux-headers-${k}`), 'build-essential', 'libelf-dev'];
  return [...build, ...gpuDriverPackages(lock.stack)];
}

/** The DKMS driver packages of the locked branch as NVIDIA's repositories name them (install's DKMS path uses them too). */
export function gpuDriverPackages(stack: Pick<Stack, 'os' | 'nvidiaDriver'>): string[] {
  const { os, nvidiaDriver: driver } = stack;
  if (driver === null) return [];
  const branch = branchNumber(driver.branch);
  const open = driver.kernelModule === 'open';
  if (os.family === 'el') {
    if (Number(os.version.split('.')[0]) >= 10) return [open ? 'nvidia-open' : 'cuda-drivers'];
    return [open ? `@nvidia-driver:${branch}-open` : `@nvidia-driver:${branch}-dkms`, open ? 'nvidia-open' : 'cuda-drivers'];
  }
  const named = branch <= 580;
  const pkg = open ? (named ? `nvidia-open-${branch}` : 'nvidia-open') : named ? `cuda-drivers-${branch}` : 'cuda-drivers';
  return [`nvidia-driver-pinning-${branch}`, pkg];
}

/**
 * The driver's `.run` installer of the exact locked version, for sites that install without packages. Location from
 * NVIDIA's packaging guide (yum-packaging-nvidia-driver, guide-rhel8: "Datacenter location:
 * http://us.download.nvidia.com/tesla/", e.g. tesla/440.33.01/NVIDIA-Linux-x86_64-440.33.01.run), over https.
 * The lock holds no checksum for it, so the caller adds `sha256` when the bundle spec pins one.
 */
export function gpuDriverInstaller(lock: { stack: Pick<Stack, 'os' | 'nvidiaDriver'> }): FileSpec | undefined {
  const driver = lock.stack.nvidiaDriver;
  if (driver === null) return undefined;
  const arch = ({ amd64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[lock.stack.os.arch] ?? lock.stack.os.arch;
  const name = `NVIDIA-Linux-${arch}-${driver.version}.run`;
  return { url: `https://us.download.nvidia.com/tesla/${driver.version}/${name}`, component: 'nvidia-driver', version: driver.version, name, mode: 0o755 };
}
