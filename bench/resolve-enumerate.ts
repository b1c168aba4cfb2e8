// Benchmark (not a test): resolve every OS × Kubernetes × GPU (and none) × CRI combination the matrix knows and
// report stacks per second. Target: the whole enumeration under 200 ms. Run: npm run bench:resolve
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { buildCatalog } from '../src/matrix/catalog.ts';
import { loadMatrix } from '../src/matrix/load.ts';
import { parseRequest, type RawRequest } from '../src/matrix/request.ts';
import { createResolver } from '../src/matrix/resolve.ts';

const now = new Date();
const t0 = performance.now();
const { matrix } = await loadMatrix();
const t1 = performance.now();
const catalog = buildCatalog(matrix);
const t2 = performance.now();

const requests: RawRequest[] = [];
for (const os of catalog.os.keys())
  for (const k of catalog.kubernetes)
    for (const gpu of [undefined, ...catalog.gpus.keys()])
      for (const cri of ['containerd', 'cri-o']) requests.push({ os, k8s: k.minor, gpu, cri });

// One resolver per enumeration, as the CLI makes one per run: it remembers component picks within the date.
function enumerate(): { ok: number; refused: number; ms: number; cpuMs: number } {
  let ok = 0;
  let refused = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const resolve = createResolver(catalog, now);
  for (const raw of requests) {
    if (resolve(parseRequest(catalog, raw)).ok) ok++;
    else refused++;
  }
  const used = process.cpuUsage(cpu);
  return { ok, refused, ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

const first = enumerate();
const all = Array.from({ length: 5 }, enumerate);
const median = all.map((r) => r.ms).sort((a, b) => a - b)[2]!;
const medianCpu = all.map((r) => r.cpuMs).sort((a, b) => a - b)[2]!;
const line = (label: string, value: string) => console.log(`${label.padEnd(28)} ${value}`);
line('combinations', `${requests.length} (${catalog.os.size} OS × ${catalog.kubernetes.length} Kubernetes × ${catalog.gpus.size + 1} GPU × 2 CRI)`);
line('stacks / refusals', `${first.ok} / ${first.refused}`);
line('load matrix (8 files)', `${(t1 - t0).toFixed(1)} ms`);
line('build catalog', `${(t2 - t1).toFixed(2)} ms`);
line('enumeration, first (cold)', `${first.ms.toFixed(1)} ms`);
line('enumeration, median of 5', `${median.toFixed(1)} ms wall, ${medianCpu.toFixed(1)} ms CPU (load average ${os.loadavg()[0]!.toFixed(1)})`);
line('stacks per second', `${Math.round(requests.length / (median / 1000)).toLocaleString('en')}`);
line('target', `< 200 ms: ${median < 200 ? 'met' : 'MISSED'} on wall time, ${medianCpu < 200 ? 'met' : 'MISSED'} on CPU time`);
