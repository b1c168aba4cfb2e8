// GPU node checks (role gpu): nouveau, kernel headers for the driver build, Secure Boot, driver state.
import type { Facts } from '../facts/types.ts';
import { hostFinding, type Finding, type NodeCheck, type NodeContext } from './types.ts';

const GPU_ROLES = ['gpu'] as const;

function nouveau(facts: Facts): Finding[] {
  if (!(facts.modules ?? []).includes('nouveau')) return [hostFinding('gpu-nouveau', facts.host, 'pass', 'nouveau is not loaded')];
  const initramfs = facts.os.family === 'el' ? 'dracut --force' : 'update-initramfs -u';
  return [hostFinding('gpu-nouveau', facts.host, 'fail', 'nouveau is loaded: the NVIDIA driver cannot bind the GPUs', `printf "blacklist nouveau\\noptions nouveau modeset=0\\n" > /etc/modprobe.d/blacklist-nouveau.conf && ${initramfs} && reboot`)];
}

/** Major version of gcc in `gcc (GCC) 11.4.1 20231218 (Red Hat 11.4.1-3)` or /proc/version's compiler field. */
function gccMajor(text: string | undefined): string | undefined {
  return /(?:gcc|GCC)[^\d]*(\d+)\.\d+/.exec(text ?? '')?.[1];
}

function headers(facts: Facts): Finding[] {
  const id = 'gpu-headers';
  const h = facts.kernelHeaders;
  const pkg = h?.package ?? (facts.os.family === 'el' ? `kernel-devel-${facts.kernel.release}` : `linux-headers-${facts.kernel.release}`);
  const install = facts.os.family === 'el' ? `dnf install ${pkg} (from the bundle repository)` : `apt-get install ${pkg} (from the bundle repository)`;
  const out: Finding[] = [];
  if (!h?.installed || !facts.kernel.buildDir)
    out.push(hostFinding(id, facts.host, 'fail', `${pkg} is ${h?.installed ? 'installed but /lib/modules/' + facts.kernel.release + '/build is missing' : 'not installed'}: the driver cannot build its kernel module for the running kernel`, install));
  const built = gccMajor(facts.kernel.compiler);
  const have = gccMajor(facts.gcc);
  if (built && have !== built)
    out.push(hostFinding(id, facts.host, 'fail', `the kernel was built with gcc ${built} but ${have ? `gcc ${have}` : 'no gcc'} is installed`, `install gcc ${built} from the bundle repository`));
  if (out.length === 0) out.push(hostFinding(id, facts.host, 'pass', `${pkg} installed; gcc ${have} matches the kernel's compiler`));
  return out;
}

function secureBoot(facts: Facts): Finding[] {
  const id = 'gpu-secure-boot';
  switch (facts.secureBoot) {
    case 'enabled':
      return [hostFinding(id, facts.host, 'fail', 'Secure Boot is enabled: an unsigned NVIDIA module will not load', 'use precompiled signed driver packages, or sign the module and enroll the key with mokutil --import, or disable Secure Boot in firmware')];
    case 'unknown':
      return [hostFinding(id, facts.host, 'warn', 'cannot tell the Secure Boot state (no mokutil, no EFI variable readable)', 'run mokutil --sb-state on the node')];
    default:
      return [hostFinding(id, facts.host, 'pass', `Secure Boot ${facts.secureBoot}`)];
  }
}

function driver(facts: Facts, ctx: NodeContext): Finding[] {
  const id = 'gpu-driver';
  const { devices, driverVersion, smi } = facts.gpu;
  const out: Finding[] = [];
  if (devices.length === 0) return [hostFinding(id, facts.host, 'fail', 'no NVIDIA GPU on the PCI bus of a node with role gpu', 'check the inventory roles, or the GPU passthrough of this machine')];
  const want = ctx.plan.nvidiaDriver;
  if (driverVersion && want && driverVersion !== want)
    out.push(hostFinding(id, facts.host, 'fail', `driver ${driverVersion} is loaded but the lock pins ${want}: two driver installs would fight`, `remove the host driver (dnf module remove nvidia-driver / apt-get purge 'nvidia-*') or pin ${driverVersion} in the lock`));
  if (driverVersion && smi.length === 0)
    out.push(hostFinding(id, facts.host, 'fail', `driver ${driverVersion} is loaded but nvidia-smi sees no GPU`, 'check dmesg for NVRM errors and that the user-space libraries match the kernel module'));
  if (facts.services['nvidia-fabricmanager'] === 'failed')
    out.push(hostFinding(id, facts.host, 'fail', 'nvidia-fabricmanager has failed: NVSwitch systems cannot run CUDA without it', 'install the fabric manager of the same version as the driver and systemctl restart nvidia-fabricmanager'));
  if (out.length === 0)
    out.push(hostFinding(id, facts.host, 'pass', `${devices.length} NVIDIA GPU(s); ${driverVersion ? `driver ${driverVersion} loaded${smi[0] ? ` (${smi[0].name})` : ''}` : 'no driver loaded yet: ferry installs the one from the lock'}`));
  return out;
}

/** The GPU checks; they run only on hosts with role gpu. */
export const gpuChecks: NodeCheck[] = [
  { id: 'gpu-nouveau', title: 'nouveau not loaded', roles: GPU_ROLES, run: nouveau },
  { id: 'gpu-headers', title: 'kernel headers and gcc for the driver build', roles: GPU_ROLES, run: headers },
  { id: 'gpu-secure-boot', title: 'Secure Boot', roles: GPU_ROLES, run: secureBoot },
  { id: 'gpu-driver', title: 'NVIDIA GPUs and driver state', roles: GPU_ROLES, run: driver },
];
