// What a GPU bundle carries for the lock's NVIDIA driver: per exact node kernel, the ways the driver can reach it
// (src/gpu/driver-packages.ts: precompiled first, DKMS with that kernel's headers second), each as the package names
// the bundle must resolve; the package source keeps the first its repositories have. Pure.
import type { Stack } from '../../config/lock.ts';
import { driverAlternatives, type DriverKind } from '../../gpu/driver-packages.ts';
import { requireGpuKernels } from '../../gpu/kernel-release.ts';
import type { FileSpec } from './files.ts';

/** One GPU node kernel and the package sets that would carry the driver for it, preferred first. */
export interface GpuKernelSet {
  kernel: string;
  /** `key`: the package that exists only for this kernel, by which a built bundle shows which one it carries. */
  alternatives: { kind: DriverKind; key: string; packages: string[] }[];
}

/**
 * The driver alternatives for each of the nodes' exact kernels (`uname -r`); empty without an NVIDIA driver. A GPU
 * lock without kernels, or with one of another OS, is refused (src/gpu/kernel-release.ts).
 */
export function gpuDriverSets(lock: { stack: Pick<Stack, 'os' | 'nvidiaDriver'> }, kernels: readonly string[]): GpuKernelSet[] {
  return kernelDriverSets(lock, requireGpuKernels(lock.stack, kernels, 'the GPU node kernels (--kernel, or kernels: in the spec)'));
}

/** The same for kernels already checked (or read off a node). */
export function kernelDriverSets(lock: { stack: Pick<Stack, 'os' | 'nvidiaDriver'> }, kernels: readonly string[]): GpuKernelSet[] {
  const { os } = lock.stack;
  const osMajor = Number(os.version.split('.')[0]);
  return [...new Set(kernels)].map((kernel) => ({
    kernel,
    alternatives: driverAlternatives({ family: os.family, osId: os.id, osMajor, kernel }, lock.stack).map((a) => ({
      kind: a.kind,
      key: a.key,
      packages: [...new Set([...a.install, ...a.bundleExtra])],
    })),
  }));
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
