// Prints the scale model (bench/scale-model.ts) at 100, 500 and 1,000 nodes from the lab's measured figures
// (docs/scale.md says where each comes from) and a site's link speeds. Usage: node bench/scale-estimate.ts
// [--concurrency 50] [--admin-gbit 1] [--node-gbit 10] [--bundle-mib 100.6] [--images-mib 300] [--registry-gib 5]
import { parseArgs } from 'node:util';
import { estimate, type ModelInput } from './scale-model.ts';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '50' },
    'admin-gbit': { type: 'string', default: '1' },
    'node-gbit': { type: 'string', default: '10' },
    'bundle-mib': { type: 'string', default: '100.6' },
    'images-mib': { type: 'string', default: '300' },
    'registry-gib': { type: 'string', default: '5' },
  },
});
const MiB = 1 << 20;
const gbit = (g: string) => (Number(g) * 1e9) / 8;
// Per-node phase times: bench/install-scale.ts on 1 lab node (2026-12-07, load 3–5, the node sharing 2 CPUs
// with the admin process and other sessions: an upper bound for a node with its own CPUs).
export const MEASURED: ModelInput = {
  phases: [
    { id: 'preflight (doctor gate)', perNodeS: 0.7 },
    { id: 'copy-bundle (per node: check, fetch from the seed)', perNodeS: 4.3 },
    { id: 'local-repo', perNodeS: 0.9 },
    { id: 'os-prepare', perNodeS: 2.4 },
    { id: 'container-runtime', perNodeS: 4.0 },
    { id: 'registry', perNodeS: 3.6, on: 'replicas' },
    { id: 'registry-mirrors', perNodeS: 6.8 },
  ],
  concurrency: Number(values.concurrency),
  adminCpuPerNodeS: 0.2,
  adminCpuFlatS: 2.4,
  nodeBundleBytes: Number(values['bundle-mib']) * MiB,
  imageBytesPerNode: Number(values['images-mib']) * MiB,
  replicas: 3,
  // The registry binary (22 MiB) and every image of the bundle, sent to each replica by the registry phase.
  bytesPerReplica: 22 * MiB + Number(values['registry-gib']) * 1024 * MiB,
  adminBytesPerNode: 0.5 * MiB,
  adminLinkBps: gbit(values['admin-gbit']!),
  nodeLinkBps: gbit(values['node-gbit']!),
};

const fmt = (s: number) => (s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);
console.log(`concurrency ${MEASURED.concurrency}, admin link ${values['admin-gbit']} Gbit/s, node links ${values['node-gbit']} Gbit/s, ` +
  `${values['bundle-mib']} MiB of bundle per node, ${values['images-mib']} MiB of images per node, ${values['registry-gib']} GiB of images in the bundle`);
console.log('| nodes | per-node phases | seed fan-out | admin link (bytes, time) | pull storm | admin CPU (share of one core) | SSH connections | total |\n|---|---|---|---|---|---|---|---|');
for (const n of [1, 10, 50, 100, 500, 1000]) {
  const e = estimate(MEASURED, n);
  const phases = Object.values(e.phaseS).reduce((a, b) => a + b, 0);
  console.log(`| ${n} | ${fmt(phases)} | ${fmt(e.seedFanOutS)} | ${(e.adminLinkBytes / MiB).toFixed(0)} MiB, ${fmt(e.adminLinkS)} | ${fmt(e.pullStormS)} | ` +
    `${fmt(e.adminCpuS)} (${(e.adminCpuShare * 100).toFixed(0)} %) | ${e.sshConnections} | ${fmt(e.totalS)} |`);
}
