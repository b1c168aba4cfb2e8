// The ways the NVIDIA driver of the lock can reach one exact kernel, in order of preference: NVIDIA's (or Canonical's)
// precompiled module for that kernel, else DKMS with that kernel's headers. Pure; the bundle build carries the first
// its repositories have (src/bundle/sources/gpu-alternatives.ts) and install's gpu-driver phase installs the same.
//
// Package names, by source:
// - EL 8/9 precompiled, proprietary: the `nvidia-driver:<B>` stream with `kmod-nvidia-<driver>-<kernel>-<release>`
//   (RPM Name from NVIDIA's kmod-nvidia.spec, `kmod-%{vendor}-%{driver}-%{kernel}-%{kernel_release}`, e.g.
//   kmod-nvidia-440.33.01-4.18.0-147.5.1; https://github.com/NVIDIA/yum-packaging-precompiled-kmod README
//   "Deliverables"; NVIDIA's table https://developer.download.nvidia.com/compute/cuda/repos/rhel9/x86_64/precompiled/).
// - EL precompiled, open modules: `kmod-nvidia-open-<driver>-<kernel>-<release>` (the RHEL example in
//   yum-packaging-precompiled-kmod DISTROS.md, kmod-nvidia-open-580.105.08-6.12.0-124.20.1-...el10_1), in the
//   `nvidia-driver:<B>-open-gpu` stream on EL 8/9 (the streams NVIDIA lists in
//   https://github.com/NVIDIA/yum-packaging-precompiled-kmod/issues/63); EL 10 has no streams.
// - Ubuntu precompiled (Canonical's linux-restricted-modules, signed for the exact kernel; NVIDIA GPU Operator docs
//   "Precompiled Driver Containers", packages.ubuntu.com): `linux-modules-nvidia-<B>-server[-open]-<uname -r>`,
//   `nvidia-utils-<B>-server`, `nvidia-compute-utils-<B>-server`. Debian publishes none: DKMS only.
// - DKMS: the driver as NVIDIA's driver installation guide names it (gpuDriverPackages) with the exact kernel's
//   `kernel-devel` / `linux-headers`, gcc, make and dkms.
import type { Stack } from '../config/lock.ts';

export type DriverKind = 'precompiled' | 'dkms';

export interface DriverTarget {
  family: 'el' | 'debian';
  /** os-release ID (rocky, ubuntu, debian, ...); without it every family's precompiled names are tried. */
  osId?: string;
  osMajor: number;
  /** `uname -r`. */
  kernel: string;
}

export interface DriverAlternative {
  kind: DriverKind;
  /** Arguments for the package manager's install on the node (EL module streams as `@module:stream`). */
  install: string[];
  /** Package names present once installed (EL: kernel-devel by name alone). */
  installed: string[];
  /** What the bundle must carry beyond `install` (build helpers that the node's install pulls in anyway). */
  bundleExtra: string[];
  /** The one package that exists only for this kernel (the precompiled module, or the kernel's headers). */
  key: string;
}

/** The branch number of `R580`, `580` or `580-open`. */
export function branchNumber(branch: string): number {
  return Number(/\d+/.exec(branch)?.[0]);
}

/** `4.18.0-240.15.1.el8_3.x86_64` → `4.18.0-240.15.1`: the kernel part of NVIDIA's precompiled kmod names. */
export function elKernelBase(kernel: string): string {
  return kernel.replace(/\.(x86_64|aarch64|ppc64le|s390x)$/, '').replace(/\.el\d+(_\d+)*$/, '');
}

/** The DKMS driver packages of the locked branch as NVIDIA's repositories name them (driver installation guide). */
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

function precompiled(t: DriverTarget, driver: NonNullable<Stack['nvidiaDriver']>): DriverAlternative | undefined {
  const b = branchNumber(driver.branch);
  const open = driver.kernelModule === 'open';
  if (t.family === 'el') {
    const kmod = `kmod-nvidia-${open ? 'open-' : ''}${driver.version}-${elKernelBase(t.kernel)}`;
    const names = [kmod, 'nvidia-driver-cuda'];
    if (t.osMajor >= 10) return open ? { kind: 'precompiled', install: names, installed: names, bundleExtra: [], key: kmod } : undefined;
    return { kind: 'precompiled', install: [`@nvidia-driver:${b}${open ? '-open-gpu' : ''}`, ...names], installed: names, bundleExtra: [], key: kmod };
  }
  if (t.osId === 'debian') return undefined;
  const modules = `linux-modules-nvidia-${b}-server-${open ? 'open-' : ''}${t.kernel}`;
  const names = [modules, `nvidia-utils-${b}-server`, `nvidia-compute-utils-${b}-server`];
  return { kind: 'precompiled', install: names, installed: names, bundleExtra: [], key: modules };
}

function dkms(t: DriverTarget, stack: Pick<Stack, 'os' | 'nvidiaDriver'>): DriverAlternative {
  const el = t.family === 'el';
  const headers = el ? `kernel-devel-${t.kernel}` : `linux-headers-${t.kernel}`;
  const driver = gpuDriverPackages({ ...stack, os: { ...stack.os, family: t.family, version: String(t.osMajor) } });
  const tools = ['gcc', 'make', 'dkms'];
  const names = driver.filter((p) => !p.startsWith('@'));
  return {
    kind: 'dkms',
    install: [headers, ...tools, ...driver],
    // rpm lists kernel-devel by name alone; the exact version was required from the repo and is what gets installed.
    installed: [el ? 'kernel-devel' : headers, ...tools, ...names],
    bundleExtra: el ? [`kernel-headers-${t.kernel}`, 'elfutils-libelf-devel'] : ['build-essential', 'libelf-dev'],
    key: headers,
  };
}

/** The driver's alternatives for one kernel, preferred first; empty when the lock has no NVIDIA driver. */
export function driverAlternatives(t: DriverTarget, stack: Pick<Stack, 'os' | 'nvidiaDriver'>): DriverAlternative[] {
  const driver = stack.nvidiaDriver;
  if (!driver) return [];
  const pre = precompiled(t, driver);
  return [...(pre ? [pre] : []), dkms(t, stack)];
}
