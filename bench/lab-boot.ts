// Benchmark: boot N lab nodes (batched, src/lab/lab.ts BOOT_CONCURRENCY at once), then tear them down by PID.
// Prints wall time to all-ready, per-node boot time (median/p90/max), memory per booted node (memory cgroup
// total_rss and usage), the host's load average, teardown time, and whether anything was left (state dir, bridge,
// cgroups, mounts). Needs root; run under the machine-wide lab lock. Usage: node bench/lab-boot.ts [nodes=10] [concurrency]
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { cgroupDir } from '../src/lab/teardown.ts';
import { BOOT_CONCURRENCY, startLab } from '../src/lab/lab.ts';

const count = Number(process.argv[2] ?? 10);
const bootConcurrency = Number(process.argv[3] ?? BOOT_CONCURRENCY);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const memAvailable = () => Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
const MiB = (b: number) => (b / (1 << 20)).toFixed(1);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

console.log(`load average before: ${load()}; MemAvailable ${MiB(memAvailable())} MiB`);
const availBefore = memAvailable();
const started = performance.now();
const lab = await startLab({ nodes: count, bootConcurrency });
const wall = performance.now() - started;
let leftovers: string[] = [];
try {
  const boots = lab.nodes.map((n) => n.bootMs);
  const stat = (node: string, key: string) => {
    const text = readFileSync(join(cgroupDir('memory', lab.prefix, node), 'memory.stat'), 'utf8');
    return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };
  // Let the nodes settle (units that finish after `running`), then read their memory.
  await new Promise((r) => setTimeout(r, 3000));
  const rss = lab.nodes.map((n) => stat(n.name, 'total_rss'));
  const usage = lab.nodes.map((n) => Number(readFileSync(join(cgroupDir('memory', lab.prefix, n.name), 'memory.usage_in_bytes'), 'utf8')));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const degraded = lab.nodes.filter((n) => n.failedUnits.length > 0).map((n) => `${n.name}: ${n.failedUnits.join(',')}`);
  console.log(`${count} nodes, ${bootConcurrency} booting at once: all ready in ${(wall / 1000).toFixed(1)} s ` +
    `(${(wall / count).toFixed(0)} ms per node); per-node boot median ${pct(boots, 0.5)} ms, p90 ${pct(boots, 0.9)} ms, max ${Math.max(...boots)} ms`);
  console.log(`memory per node: total_rss mean ${MiB(sum(rss) / count)} MiB (max ${MiB(Math.max(...rss))}), cgroup usage (with page cache) mean ${MiB(sum(usage) / count)} MiB; ` +
    `MemAvailable dropped ${MiB(availBefore - memAvailable())} MiB (${MiB((availBefore - memAvailable()) / count)} MiB per node)`);
  // inotify instances per node (every fd of every process in the node's cgroup that is an inotify instance).
  const inotify = (node: string) => {
    const walk = (dir: string): string[] => [
      ...readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean),
      ...readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) => walk(join(dir, d.name))),
    ];
    const procs = walk(cgroupDir('pids', lab.prefix, node));
    let n = 0;
    for (const pid of procs) {
      let fds: string[] = [];
      try { fds = readdirSync(`/proc/${pid}/fd`); } catch { continue; }
      for (const fd of fds) { try { if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify') n++; } catch { /* gone */ } }
    }
    return n;
  };
  console.log(`inotify instances per node: ${inotify(lab.nodes[0]!.name)} (${lab.nodes[0]!.name}), SSH host keys distinct: ${new Set(readFileSync(lab.knownHostsFile, 'utf8').trim().split('\n').map((l) => l.split(' ').slice(1).join(' '))).size} of ${readFileSync(lab.knownHostsFile, 'utf8').trim().split('\n').length} lines`);
  console.log(`degraded nodes: ${degraded.length ? degraded.join('; ') : 'none'}; load average after boot: ${load()}`);
} finally {
  const t = performance.now();
  await lab.stop();
  const down = performance.now() - t;
  const links = readFileSync('/proc/net/dev', 'utf8');
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  if (existsSync(lab.stateDir)) leftovers.push(lab.stateDir);
  if (links.includes(lab.bridge) || existsSync(`/sys/class/net/${lab.bridge}`)) leftovers.push(lab.bridge);
  if (mounts.includes(lab.prefix)) leftovers.push('mounts');
  if (existsSync(cgroupDir('memory', lab.prefix))) leftovers.push('cgroups');
  console.log(`teardown of ${count} nodes: ${(down / 1000).toFixed(1)} s; left behind: ${leftovers.length ? leftovers.join(', ') : 'nothing'}`);
}
