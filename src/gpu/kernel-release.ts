// Whether a GPU node's kernel (`uname -r`) belongs to the lock's OS, so the bundle can carry a driver for it. Pure.
//
// Spellings, from the kernels the distributions ship:
// - EL: `<version>-<release>.el<major>[_<minor>].<arch>`, e.g. 5.14.0-427.13.1.el9_4.x86_64 (Rocky 9.4 BaseOS,
//   https://dl.rockylinux.org/vault/rocky/9.4/BaseOS/x86_64/os/Packages/k/); early GA kernels lack the minor
//   (4.18.0-80.el8.x86_64).
// - Debian: `<version>-<abi>-<flavour>`, e.g. 6.1.0-37-amd64 (packages.debian.org linux-image-6.1.0-37-amd64);
//   Ubuntu: 5.15.0-105-generic, 6.8.0-1015-nvidia (packages.ubuntu.com linux-image-*); Debian's backports and trixie
//   kernels drop the ABI number: 6.12.12+bpo-amd64, 6.12.38+deb13-amd64 (packages.debian.org linux-image-*); a site's
//   own kernel is whatever its build named it (`make bindeb-pkg` packages its headers as linux-headers-<uname -r>),
//   so any release with a suffix after the version is taken, and the build then needs linux-headers-<it>.
import { UserError } from '../errors.ts';
import type { Stack } from '../config/lock.ts';

const EL_ARCH: Record<string, string> = { amd64: 'x86_64', x86_64: 'x86_64', arm64: 'aarch64', aarch64: 'aarch64', ppc64le: 'ppc64le', s390x: 's390x' };

/** `5.14.0-427.13.1.el9_4.x86_64` → major 9, minor 4, arch x86_64; undefined when it is not an EL kernel. */
export function parseElKernel(kernel: string): { major: number; minor?: number; arch: string } | undefined {
  const m = /\.el(\d+)(?:_(\d+))?\.(x86_64|aarch64|ppc64le|s390x)$/.exec(kernel);
  if (!m) return undefined;
  return { major: Number(m[1]), ...(m[2] !== undefined ? { minor: Number(m[2]) } : {}), arch: m[3]! };
}

/** Why `kernel` cannot be a GPU node's kernel for the lock's OS, or undefined when it can. */
export function kernelMismatch(os: Stack['os'], kernel: string): string | undefined {
  const el = parseElKernel(kernel);
  const [major, minor] = os.version.split('.').map(Number);
  if (os.family === 'el') {
    if (!el) return `${kernel} is not an Enterprise Linux kernel (uname -r there ends in .el${major}[_N].<arch>)`;
    if (el.major !== major) return `${kernel} is an EL ${el.major} kernel, but the lock is for ${os.id} ${os.version}`;
    if (el.minor !== undefined && minor !== undefined && el.minor !== minor)
      return `${kernel} belongs to ${os.id} ${major}.${el.minor}, but the lock (and the repositories it resolves against) is ${os.id} ${os.version}`;
    const arch = EL_ARCH[os.arch] ?? os.arch;
    if (el.arch !== arch) return `${kernel} is an ${el.arch} kernel, but the lock is for ${arch}`;
    return undefined;
  }
  if (el) return `${kernel} is an EL ${el.major} kernel, but the lock is for ${os.id} ${os.version}`;
  if (!/^\d+\.\d+(\.\d+)?[-+][A-Za-z0-9][A-Za-z0-9._+~-]*$/.test(kernel))
    return `${kernel} is not a ${os.id} kernel (uname -r there looks like ${os.id === 'ubuntu' ? '5.15.0-105-generic' : '6.1.0-37-amd64'})`;
  return undefined;
}

/**
 * The kernels a GPU bundle carries a driver for: refused (exit 2) when the lock has an NVIDIA driver and none is
 * named, or when one does not belong to the lock's OS. `origin` names where they came from, for the message.
 */
export function requireGpuKernels(stack: Pick<Stack, 'os' | 'nvidiaDriver'>, kernels: readonly string[], origin: string): string[] {
  if (stack.nvidiaDriver === null) return [];
  const read = 'read it on each GPU node with `uname -r` (or from `ferry doctor -i cluster.yaml --json`, facts.kernel per host)';
  if (kernels.length === 0)
    throw new UserError(
      `the lock has NVIDIA driver ${stack.nvidiaDriver.version}, which must be built for the exact kernel of each GPU node, and no kernel was named`,
      { hint: `pass --kernel for each GPU node's kernel (or list them under kernels: in the spec); ${read}, e.g. --kernel ${example(stack.os)}` },
    );
  const bad = kernels.map((k) => kernelMismatch(stack.os, k)).filter((m): m is string => m !== undefined);
  if (bad.length > 0)
    throw new UserError(`${origin}: ${bad.join('; ')}`, { hint: `give the kernel the GPU nodes run: ${read}; or resolve the lock for the OS they run (ferry resolve --os ...)` });
  return [...new Set(kernels)];
}

function example(os: Stack['os']): string {
  if (os.family === 'el') return `5.14.0-427.13.1.el9_4.x86_64`;
  return os.id === 'ubuntu' ? '5.15.0-105-generic' : '6.1.0-37-amd64';
}

/**
 * For a lock of several OS releases: each GPU node kernel with the OS it belongs to (the first in the lock's order
 * that takes it), keyed `<id>-<version>`. Refused (exit 2) like requireGpuKernels: no kernel for a GPU lock, or a
 * kernel that belongs to none of them (with why, per OS).
 */
export function gpuKernelsByOs(stack: Pick<Stack, 'os' | 'nvidiaDriver'>, oses: readonly Stack['os'][], kernels: readonly string[], origin: string): Record<string, string[]> {
  const out: Record<string, string[]> = Object.fromEntries(oses.map((o) => [`${o.id}-${o.version}`, [] as string[]]));
  if (stack.nvidiaDriver === null) return out;
  if (kernels.length === 0) requireGpuKernels(stack, kernels, origin);
  const bad: string[] = [];
  for (const kernel of new Set(kernels)) {
    const os = oses.find((o) => kernelMismatch(o, kernel) === undefined);
    if (os) out[`${os.id}-${os.version}`]!.push(kernel);
    else bad.push(`${kernel} belongs to none of the lock's OS releases (${oses.map((o) => kernelMismatch(o, kernel)).join('; ')})`);
  }
  if (bad.length > 0)
    throw new UserError(`${origin}: ${bad.join('; ')}`, { hint: 'give the kernels the GPU nodes run (`uname -r` on each); or resolve the lock for the OS they run too (ferry resolve --os ... --os ...)' });
  return out;
}
