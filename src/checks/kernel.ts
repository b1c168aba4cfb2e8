// Kernel: release supported, module tree present, no reboot pending; the bridge and overlay features kubelet and the CNI need.
import type { Facts } from '../facts/types.ts';
import { compareLoose } from './version.ts';
import { hostFinding, type Finding, type NodeCheck } from './types.ts';

function kernel(facts: Facts): Finding[] {
  const id = 'kernel';
  const { release } = facts.kernel;
  const out: Finding[] = [];
  const el8 = facts.os.family === 'el' && release.startsWith('4.18.0-');
  if (compareLoose(release, '4.19.0') < 0 && !el8)
    out.push(hostFinding(id, facts.host, 'fail', `kernel ${release} is older than 4.19, the oldest kubeadm's system verification accepts`, 'boot a supported kernel (4.19+, 5.x or 6.x; RHEL 8 4.18.0-xxx is accepted)'));
  else if (el8)
    out.push(hostFinding(id, facts.host, 'warn', `kernel ${release} (RHEL 8): kubeadm 1.32.0's system verification rejected 4.18 (kubernetes#129462)`, 'use kubeadm 1.32.1 or newer, or --ignore-preflight-errors=SystemVerification'));
  else out.push(hostFinding(id, facts.host, 'pass', `kernel ${release}`));
  if (!facts.kernel.modulesDir)
    out.push(hostFinding(id, facts.host, facts.modules === undefined ? 'warn' : 'fail', `/lib/modules/${release} is missing: modprobe cannot load anything${facts.modules === undefined ? ' (this kernel has no module support; only built-in features are available)' : ''}`, 'install the modules package for the running kernel, or reboot into the kernel whose modules are installed'));
  if (facts.reboot.required)
    out.push(hostFinding(id, facts.host, 'warn', `a reboot is pending: ${facts.reboot.reason}`, 'reboot the node before installing, so the running kernel is the one the headers and modules match'));
  return out;
}

/** Whether a kernel feature is there: a loaded module, or built in (no module support yet the sysctl/filesystem exists). */
function present(facts: Facts, module: string, evidence: boolean): boolean {
  return evidence || (facts.modules ?? []).includes(module);
}

function kernelModules(facts: Facts): Finding[] {
  const id = 'kernel-modules';
  const out: Finding[] = [];
  const bridgeCall = facts.sysctl['net.bridge.bridge-nf-call-iptables'];
  const brNetfilter = present(facts, 'br_netfilter', bridgeCall !== undefined);
  const overlay = present(facts, 'overlay', facts.filesystems.includes('overlay'));
  const load = 'printf "overlay\\nbr_netfilter\\n" > /etc/modules-load.d/k8s.conf && modprobe overlay && modprobe br_netfilter';
  if (!brNetfilter) out.push(hostFinding(id, facts.host, 'warn', 'br_netfilter is not loaded: bridged pod traffic bypasses iptables', load));
  else if (bridgeCall !== '1')
    out.push(hostFinding(id, facts.host, 'warn', `net.bridge.bridge-nf-call-iptables = ${bridgeCall}`, 'echo net.bridge.bridge-nf-call-iptables=1 > /etc/sysctl.d/99-kubernetes.conf && sysctl --system'));
  if (!overlay) out.push(hostFinding(id, facts.host, 'warn', 'overlay is not available: containerd’s overlayfs snapshotter needs it', load));
  if (out.length === 0) out.push(hostFinding(id, facts.host, 'pass', 'br_netfilter (bridge-nf-call-iptables = 1) and overlay are available'));
  return out;
}

/** The kernel checks, in report order. */
export const kernelChecks: NodeCheck[] = [
  { id: 'kernel', title: 'kernel release, module tree, pending reboot', run: kernel },
  { id: 'kernel-modules', title: 'br_netfilter and overlay', run: kernelModules },
];
