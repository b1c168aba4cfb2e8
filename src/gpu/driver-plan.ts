// How a GPU node gets the NVIDIA driver of the lock for the kernel it runs. Pure: node facts, the locked branch and
// the package names ferry's repository on the node offers in; a plan (precompiled, DKMS) or a refusal out.
//
// Package names and their sources: src/gpu/driver-packages.ts (shared with the bundle build, so the bundle carries
// exactly what this installs). NVIDIA Container Toolkit: `nvidia-container-toolkit` (both families; it pulls
// libnvidia-container).
import { branchNumber, driverAlternatives, type DriverKind } from './driver-packages.ts';
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
      /** Package names that are installed once the plan is done (the phase's next observe looks for these). */
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

function initramfsArgv(tool: GpuNodeFacts['initramfs']): string[] | undefined {
  if (tool === 'dracut') return ['dracut', '--force'];
  if (tool === 'update-initramfs') return ['update-initramfs', '-u'];
  return undefined;
}

/**
 * Picks how the driver reaches this node: a precompiled module for its exact kernel when ferry's repository has
 * one, else DKMS with that kernel's headers, else a refusal that names the kernel, what is missing and the fix.
 * `offered` holds every package name in ferry's repo on the node (EL: also name-version-release.arch of each);
 * `recorded` is the way the bundle's manifest says it carries the driver for this kernel (gpuDrivers), when it says.
 */
export function planDriver(node: GpuNodeFacts, stack: Pick<Stack, 'os' | 'nvidiaDriver'>, offered: ReadonlySet<string>, recorded?: DriverKind): DriverPlan {
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
  const target = { family: node.family, osMajor: node.osMajor, kernel: node.kernel };
  const all = driverAlternatives(target, stack);
  // The bundle recorded which way it carries the driver for this kernel; without a record, the first the repo offers.
  const alternatives = recorded ? all.filter((a) => a.kind === recorded) : all;
  const fits = alternatives.find((a) => a.install.filter((p) => !p.startsWith('@')).every((p) => offered.has(p)) && a.installed.every((p) => offered.has(p)));
  if (fits) return { kind: fits.kind, install: [...fits.install, ...toolkit], installed: [...fits.installed, ...toolkit], ...tail };
  const pre = all.find((a) => a.kind === 'precompiled');
  const d = all.find((a) => a.kind === 'dkms')!;
  const missing = d.install.filter((p) => !p.startsWith('@')).filter((p) => !offered.has(p));
  return {
    kind: 'refuse',
    reason:
      `${node.host} runs kernel ${node.kernel}, and ferry's repository has neither a precompiled NVIDIA ${branch} driver for it ` +
      `${pre ? `(${pre.installed[0]}) ` : ''}nor what DKMS needs to build one: missing ${missing.join(', ')}`,
    hint: `rebuild the bundle for this kernel: ferry bundle build --kernel ${node.kernel} (then copy it and run install again)`,
  };
}
