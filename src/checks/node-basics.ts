// Small node checks kubeadm's own preflight also makes, with remedies: swap, ip_forward, keyring, CPU and memory.
import type { Facts } from '../facts/types.ts';
import { hostFinding, type Finding, type NodeCheck, type NodeContext } from './types.ts';

function swap(facts: Facts): Finding[] {
  const active = facts.swap.devices;
  if (active.length === 0) return [hostFinding('swap', facts.host, 'pass', 'no swap active')];
  return [hostFinding('swap', facts.host, 'fail', `swap is on (${active.map((d) => d.name).join(', ')}): kubelet refuses to start while failSwapOn is true (the default)`, "swapoff -a && sed -i '/\\sswap\\s/s/^/#/' /etc/fstab")];
}

function ipForward(facts: Facts): Finding[] {
  const value = facts.sysctl['net.ipv4.ip_forward'];
  if (value === '1') return [hostFinding('ip-forward', facts.host, 'pass', 'net.ipv4.ip_forward = 1')];
  return [hostFinding('ip-forward', facts.host, 'fail', `net.ipv4.ip_forward = ${value ?? 'unknown'}: pods cannot reach other nodes (kubeadm preflight fails)`, 'echo net.ipv4.ip_forward=1 > /etc/sysctl.d/99-kubernetes.conf && sysctl --system')];
}

function keyring(facts: Facts): Finding[] {
  const value = Number(facts.sysctl['kernel.keys.root_maxkeys'] ?? Number.NaN);
  if (Number.isNaN(value)) return [hostFinding('kernel-keyring', facts.host, 'warn', 'cannot read kernel.keys.root_maxkeys', 'check /proc/sys/kernel/keys/root_maxkeys')];
  if (value > 10_000) return [hostFinding('kernel-keyring', facts.host, 'pass', `kernel.keys.root_maxkeys = ${value}`)];
  return [hostFinding('kernel-keyring', facts.host, 'fail', `kernel.keys.root_maxkeys = ${value}: every container takes a session keyring, so the node stops starting containers after ~${value}`, 'echo kernel.keys.root_maxkeys=1000000 > /etc/sysctl.d/99-kubernetes.conf && echo kernel.keys.root_maxbytes=25000000 >> /etc/sysctl.d/99-kubernetes.conf && sysctl --system')];
}

function cpuMemory(facts: Facts, ctx: NodeContext): Finding[] {
  const mb = Math.round(facts.memory.totalKb / 1024);
  const cp = ctx.roles.includes('control-plane');
  const problems: string[] = [];
  if (cp && facts.cpus < 2) problems.push(`${facts.cpus} CPU (a control plane needs 2)`);
  if (cp && mb < 1700) problems.push(`${mb} MB memory (a control plane needs 1700)`);
  if (problems.length > 0) return [hostFinding('cpu-memory', facts.host, 'fail', problems.join('; '), 'give the node more CPU or memory')];
  if (!cp && mb < 1024) return [hostFinding('cpu-memory', facts.host, 'warn', `${mb} MB memory leaves little for pods`, 'give the node more memory')];
  return [hostFinding('cpu-memory', facts.host, 'pass', `${facts.cpus} CPU, ${mb} MB memory`)];
}

/** The basic node checks, in report order. */
export const basicChecks: NodeCheck[] = [
  { id: 'swap', title: 'swap off', run: swap },
  { id: 'ip-forward', title: 'net.ipv4.ip_forward = 1', run: ipForward },
  { id: 'kernel-keyring', title: 'kernel keyring large enough', run: keyring },
  { id: 'cpu-memory', title: 'CPU and memory', run: cpuMemory },
];
