// Small node checks kubeadm's own preflight also makes, with remedies: swap, ip_forward, keyring, CPU and memory; and
// the neighbour table's size against the cluster's.
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

/** Pods a node runs at most: kubelet's default maxPods (KubeletConfiguration `maxPods`, default 110). */
const MAX_PODS = 110;

/**
 * Neighbour (ARP) entries a node holds in a cluster of `nodes`: one per other node on its network, and one per pod
 * on the node (each local pod is reached over its own veth). Overlay entries (VXLAN) are PERMANENT ones, which the
 * limits below do not count.
 */
export function neighboursNeeded(nodes: number): number {
  return Math.max(0, nodes - 1) + MAX_PODS;
}

/** Limits that hold `need` entries with room: gc_thresh3 the next power of two at or above twice it. */
export function neighbourLimits(need: number): { gc1: number; gc2: number; gc3: number } {
  const gc3 = Math.max(1024, 2 ** Math.ceil(Math.log2(2 * need)));
  return { gc1: Math.max(128, gc3 / 8), gc2: gc3 / 2, gc3 };
}

/**
 * The neighbour table against the cluster's size (Linux Documentation/networking/ip-sysctl.rst, neigh/default/
 * gc_thresh2: "Entries older than 5 seconds will be cleared when over this number", default 512; gc_thresh3: the
 * maximum number of non-PERMANENT entries, default 1024; https://docs.kernel.org/networking/ip-sysctl.html, read
 * 2026-12-07). Over gc_thresh3 the kernel drops packets to new neighbours without telling the sender
 * ("neighbour: arp_cache: neighbor table overflow!"): the 50-node lab's pair probes failed exactly so (docs/scale.md).
 * Judged only when the run knows the cluster (doctor -i).
 */
function neighbourTable(facts: Facts, ctx: NodeContext): Finding[] {
  if (ctx.peers === undefined) return [];
  const nodes = ctx.peers.length;
  const need = neighboursNeeded(nodes);
  const gc2 = Number(facts.sysctl['net.ipv4.neigh.default.gc_thresh2'] ?? Number.NaN);
  const gc3 = Number(facts.sysctl['net.ipv4.neigh.default.gc_thresh3'] ?? Number.NaN);
  const want = neighbourLimits(need);
  const remedy = `printf 'net.ipv4.neigh.default.gc_thresh1 = ${want.gc1}\nnet.ipv4.neigh.default.gc_thresh2 = ${want.gc2}\nnet.ipv4.neigh.default.gc_thresh3 = ${want.gc3}\n' > /etc/sysctl.d/90-neighbour-table.conf && sysctl --system`;
  const sizes = `${nodes} nodes and up to ${MAX_PODS} pods here need about ${need} neighbour entries`;
  if (Number.isNaN(gc2) || Number.isNaN(gc3)) return [hostFinding('neighbour-table', facts.host, 'warn', `net.ipv4.neigh.default.gc_thresh2/3 not readable (a network namespace other than the host's, such as a container's, shows none: the host kernel's limits apply); ${sizes}`, 'read /proc/sys/net/ipv4/neigh/default/gc_thresh2 and gc_thresh3 on the host itself')];
  if (need > gc3) return [hostFinding('neighbour-table', facts.host, 'fail', `${sizes}, over gc_thresh3 = ${gc3}: packets to the neighbours past it are dropped without an error (dmesg: neighbor table overflow)`, remedy)];
  if (need > gc2) return [hostFinding('neighbour-table', facts.host, 'warn', `${sizes}, over gc_thresh2 = ${gc2}: entries older than 5 s are purged and re-resolved (ARP churn)`, remedy)];
  return [hostFinding('neighbour-table', facts.host, 'pass', `${sizes}; gc_thresh2 = ${gc2}, gc_thresh3 = ${gc3}`)];
}

/** The basic node checks, in report order. */
export const basicChecks: NodeCheck[] = [
  { id: 'swap', title: 'swap off', run: swap },
  { id: 'ip-forward', title: 'net.ipv4.ip_forward = 1', run: ipForward },
  { id: 'kernel-keyring', title: 'kernel keyring large enough', run: keyring },
  { id: 'cpu-memory', title: 'CPU and memory', run: cpuMemory },
  { id: 'neighbour-table', title: 'neighbour (ARP) table holds the cluster', run: neighbourTable },
];
