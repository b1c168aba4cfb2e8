// The scale model of docs/scale.md as arithmetic: the node-level install (and doctor) at N nodes on real hardware,
// from figures measured in the lab (bench/install-scale.ts, bench/doctor-scale.ts). Pure; bench/scale-estimate.ts
// prints it. Every input is a measured figure or a named assumption about the site (link speeds, bundle size).

/** One phase: per-node work (runs on every node, at most `concurrency` at once) and its admin-side bytes. */
export interface PhaseCost {
  id: string;
  /** Seconds one node spends in the phase when it has the machine to itself (the lab's 1-node run). */
  perNodeS: number;
  /** `replicas`: the phase runs on the registry replicas only (the registry phase), in one wave. */
  on?: 'all' | 'replicas';
}

export interface ModelInput {
  phases: PhaseCost[];
  /** ssh.concurrency: hosts worked on at once. */
  concurrency: number;
  /** Admin CPU seconds per node over the whole run (SSH crypto and planning; ferry is one Node.js thread). */
  adminCpuPerNodeS: number;
  /** Admin CPU seconds whatever N (bundle reads, lock, CA, rendering). */
  adminCpuFlatS: number;
  /** Bytes of bundle each node needs (packages + files); seed mode sends them once over the admin link. */
  nodeBundleBytes: number;
  /** Bytes of images a node pulls from the replicas at first start. */
  imageBytesPerNode: number;
  /** Registry replicas (the control planes); each gets the registry binary and every image from the admin host. */
  replicas: number;
  /** Bytes sent to each replica by the registry phase (binary + the bundle's images). */
  bytesPerReplica: number;
  /** Bytes over the admin link per node (SSH commands, rendered files, uploads other than the bundle). */
  adminBytesPerNode: number;
  /** Link speeds in bytes/s: the admin host's, a seed node's NIC, a replica's NIC. */
  adminLinkBps: number;
  nodeLinkBps: number;
}

export interface Estimate {
  nodes: number;
  /** Seconds per phase: waves of `concurrency` nodes, each wave as long as one node's phase. */
  phaseS: Record<string, number>;
  /** Seed stage: the seed's NIC sends the bundle to every other node. */
  seedFanOutS: number;
  /** Admin link: the bundle once, every replica's content, per-node SSH traffic. */
  adminLinkBytes: number;
  adminLinkS: number;
  /** Pull storm: every node pulls its images at once from the replicas (each replica's NIC shares the load). */
  pullStormS: number;
  /** Total admin CPU seconds, and the share of one core it needs over the install's wall time. */
  adminCpuS: number;
  adminCpuShare: number;
  /** SSH connections (file descriptors) held open by the admin process: one per host for the whole run. */
  sshConnections: number;
  totalS: number;
}

/** Waves of `c` hosts: ceil(n / c). */
export function waves(n: number, c: number): number {
  return Math.ceil(n / Math.max(1, c));
}

/** The estimate for `nodes` nodes. */
export function estimate(m: ModelInput, nodes: number): Estimate {
  const w = waves(nodes, m.concurrency);
  const replicas = Math.min(m.replicas, nodes);
  const phaseS = Object.fromEntries(m.phases.map((p) => [p.id, (p.on === 'replicas' ? waves(replicas, m.concurrency) : w) * p.perNodeS]));
  const seedFanOutS = ((nodes - 1) * m.nodeBundleBytes) / m.nodeLinkBps;
  const adminLinkBytes = m.nodeBundleBytes + replicas * m.bytesPerReplica + nodes * m.adminBytesPerNode;
  const adminLinkS = adminLinkBytes / m.adminLinkBps;
  const pullStormS = (nodes * m.imageBytesPerNode) / (replicas * m.nodeLinkBps);
  const work = Object.values(phaseS).reduce((a, b) => a + b, 0) + seedFanOutS + adminLinkS;
  const adminCpuS = m.adminCpuFlatS + nodes * m.adminCpuPerNodeS;
  // One thread: the run can never be shorter than its admin CPU.
  const totalS = Math.max(work, adminCpuS) + pullStormS;
  return { nodes, phaseS, seedFanOutS, adminLinkBytes, adminLinkS, pullStormS, adminCpuS, adminCpuShare: adminCpuS / Math.max(work, adminCpuS), sshConnections: nodes, totalS };
}

/** The largest concurrency whose admin CPU stays under `share` of one core: c × cpuPerNode / nodeRunS ≤ share. */
export function concurrencyFor(m: Pick<ModelInput, 'adminCpuPerNodeS' | 'phases'>, share: number): number {
  const nodeRunS = m.phases.reduce((a, p) => a + p.perNodeS, 0);
  return Math.max(1, Math.floor((share * nodeRunS) / m.adminCpuPerNodeS));
}
