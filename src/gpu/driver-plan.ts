// How a GPU node gets the NVIDIA driver of the lock for the kernel it runs. Pure: node facts, the locked branch and
// the package names ferry's repository on the node offers in; a plan (precompiled, DKMS) or a refusal out.
//
// Package names, by source:
// - Ubuntu/Debian precompiled (Canonical's linux-restricted-modules, signed for the exact kernel; NVIDIA's GPU
//   Operator docs "Installing Precompiled and Canonical Signed Drivers on Ubuntu", packages.ubuntu.com):
//   `linux-modules-nvidia-<B>-server-<uname -r>` (open modules: `linux-modules-nvidia-<B>-server-open-<uname -r>`),
//   `nvidia-utils-<B>-server` (nvidia-smi), `nvidia-compute-utils-<B>-server` (nvidia-persistenced).
// - EL 8/9 precompiled (NVIDIA yum-packaging-precompiled-kmod, named in yum-packaging-dkms-nvidia's README): the
//   `nvidia-driver:<B>` stream with `kmod-nvidia-<driver version>-<kernel version-release without dist>`, e.g.
//   kmod-nvidia-460.32.03-4.18.0-240.15.1 for kernel 4.18.0-240.15.1.el8_3.x86_64.
// - DKMS: the driver as bundle/sources/gpu-packages.ts carries it (NVIDIA driver installation guide) plus the
//   headers of the exact kernel (`kernel-devel-<uname -r>`, `linux-headers-<uname -r>`), gcc, make and dkms.
// - NVIDIA Container Toolkit: `nvidia-container-toolkit` (both families; it pulls libnvidia-container).
import { gpuDriverPackages } from '../bundle/sources/gpu-packages.ts';
import type { Stack } from '../config/lock.ts';

export interface GpuNodeFacts {
  host: string;
  family: 'debian' | 'el';
  /** os-release VERSION_ID major, e.g. 8, 9, 12, 22. */
  osMajor: number;
  /** `uname -r`. */
  kernel: string;
  /** `uname -m`. */
  machine: string;
  /** NVIDIA display controllers on the PCI bus (vendor 0x10de, class 0x03xxxx). */
  gpus: number;
  /** The initramfs tool the node has (none: a node that boots without one, e.g. a container). */
  initramfs: 'dracut' | 'update-initramfs' | 'none';
}

export type DriverPlan =
  | {
      kind: 'precompiled' | 'dkms';
      /** Arguments for the package manager's install (EL module streams as `@module:stream`). */
      install: string[];
      /** Package names that are installed once the plan is done (isDone looks for these). */
      installed: string[];
      /** The argv that rebuilds the initramfs after nouveau is blacklisted; absent when the node has none. */
      initramfs?: string[];
      /** The locked driver branch number, e.g. 580. */
      branch: number;
    }
  | { kind: 'refuse'; reason: string; hint: string };

export const NOUVEAU_BLACKLIST_PATH = '/etc/modprobe.d/ferry-blacklist-nouveau.conf';
/** nouveau must not bind the GPU before nvidia.ko does (NVIDIA driver installation guide, "Disable Nouveau"). */
export const NOUVEAU_BLACKLIST = '# Written by ferry: the NVIDIA driver owns the GPUs on this node.\nblacklist nouveau\noptions nouveau modeset=0\n';
export const CONTAINER_TOOLKIT_PACKAGES = ['nvidia-container-toolkit'];

/** The branch number of `R580`, `580` or `580-open`. */
export function branchNumber(branch: string): number {
  return Number(/\d+/.exec(branch)?.[0]);
}

/** `4.18.0-240.15.1.el8_3.x86_64` → `4.18.0-240.15.1`: the kernel part of NVIDIA's precompiled kmod names. */
export function elKernelBase(kernel: string): string {
  return kernel.replace(/\.(x86_64|aarch64|ppc64le)$/, '').replace(/\.el\d+(_\d+)*$/, '');
}

function initramfsArgv(tool: GpuNodeFacts['initramfs']): string[] | undefined {
  if (tool === 'dracut') return ['dracut', '--force'];
  if (tool === 'update-initramfs') return ['update-initramfs', '-u'];
  return undefined;
}

function precompiled(node: GpuNodeFacts, driver: NonNullable<Stack['nvidiaDriver']>): { install: string[]; installed: string[]; probe: string } {
  const b = branchNumber(driver.branch);
  if (node.family === 'el') {
    const kmod = `kmod-nvidia-${driver.version}-${elKernelBase(node.kernel)}`;
    return { install: [`@nvidia-driver:${b}`, kmod, 'nvidia-driver-cuda'], installed: [kmod, 'nvidia-driver-cuda'], probe: kmod };
  }
  const modules = `linux-modules-nvidia-${b}-server-${driver.kernelModule === 'open' ? 'open-' : ''}${node.kernel}`;
  const names = [modules, `nvidia-utils-${b}-server`, `nvidia-compute-utils-${b}-server`];
  return { install: names, installed: names, probe: modules };
}

function dkms(node: GpuNodeFacts, stack: Pick<Stack, 'os' | 'nvidiaDriver'>) {
  const headers = node.family === 'el' ? `kernel-devel-${node.kernel}` : `linux-headers-${node.kernel}`;
  const driver = gpuDriverPackages({ ...stack, os: { ...stack.os, family: node.family, version: String(node.osMajor) } });
  const tools = ['gcc', 'make', 'dkms'];
  const names = driver.filter((p) => !p.startsWith('@'));
  // rpm lists kernel-devel by name alone; the exact version was required from the repo and is what gets installed.
  return {
    install: [headers, ...tools, ...driver],
    required: [headers, ...tools, ...names],
    installed: [node.family === 'el' ? 'kernel-devel' : headers, ...tools, ...names],
  };
}

/**
 * Picks how the driver reaches this node: a precompiled module for its exact kernel when ferry's repository has
 * one, else DKMS with that kernel's headers, else a refusal that names the kernel, what is missing and the fix.
 * `offered` holds every package name in ferry's repo on the node (EL: also name-version-release.arch of each).
 */
export function planDriver(node: GpuNodeFacts, stack: Pick<Stack, 'os' | 'nvidiaDriver'>, offered: ReadonlySet<string>): DriverPlan {
  const driver = stack.nvidiaDriver;
  if (!driver) return { kind: 'refuse', reason: `${node.host} has role gpu but the lock has no NVIDIA driver`, hint: 'resolve the lock with --gpu MODEL' };
  if (node.gpus === 0)
    return { kind: 'refuse', reason: `${node.host} has role gpu but no NVIDIA GPU on its PCI bus (vendor 0x10de, class 0x03)`, hint: 'remove the gpu role from this host, or check the card is seated and visible in lspci' };
  const branch = branchNumber(driver.branch);
  const initramfs = initramfsArgv(node.initramfs);
  const tail = { branch, ...(initramfs ? { initramfs } : {}) };
  const toolkit = CONTAINER_TOOLKIT_PACKAGES;
  const missingToolkit = toolkit.filter((p) => !offered.has(p));
  if (missingToolkit.length > 0)
    return { kind: 'refuse', reason: `ferry's repository on ${node.host} lacks ${missingToolkit.join(', ')} (NVIDIA Container Toolkit)`, hint: 'rebuild the bundle with the NVIDIA Container Toolkit repository in the spec' };
  const pre = precompiled(node, driver);
  if (offered.has(pre.probe) && pre.installed.every((p) => offered.has(p)))
    return { kind: 'precompiled', install: [...pre.install, ...toolkit], installed: [...pre.installed, ...toolkit], ...tail };
  const d = dkms(node, stack);
  const missing = d.required.filter((p) => !offered.has(p));
  if (missing.length === 0) return { kind: 'dkms', install: [...d.install, ...toolkit], installed: [...d.installed, ...toolkit], ...tail };
  return {
    kind: 'refuse',
    reason:
      `${node.host} runs kernel ${node.kernel}, and ferry's repository has neither a precompiled NVIDIA ${branch} driver for it ` +
      `(${pre.probe}) nor what DKMS needs to build one: missing ${missing.join(', ')}`,
    hint: `rebuild the bundle for this kernel: ferry bundle build --kernel ${node.kernel} (then copy it and run install again)`,
  };
}
