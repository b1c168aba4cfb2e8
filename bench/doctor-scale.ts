// Benchmark: doctor on the first 1, 10, 50, 100 … nodes of one lab (booted once, at the largest size). For each size:
// wall time, ferry's own CPU on the admin host (SSH crypto included: it runs in-process), SSH round trips per host,
// and failures: hosts unreachable, probe agents that errored, and failing pairwise findings (ipip is expected to
// fail in the lab: its kernel has no ipip, LAB.md). All lab nodes share the machine's CPUs, so per-node work that runs
// in parallel on a site runs one after another here. Needs root; run under the lab lock.
// Usage: node bench/doctor-scale.ts [sizes=1,10,50,100] [runs=1]
import { homedir, loadavg } from 'node:os';
import { Inventory } from '../src/config/inventory.ts';
import { loadYamlFile } from '../src/config/load.ts';
import { runDoctor, type DoctorTarget, type OpenedHosts } from '../src/doctor/doctor.ts';
import { planFrom } from '../src/doctor/plan.ts';
import { openInventoryHosts } from '../src/doctor/ssh-hosts.ts';
import { startLab } from '../src/lab/lab.ts';
import { mapPool } from '../src/util/map-pool.ts';
import { CountingHost } from './counting-host.ts';

/** Wrap every opened host in a CountingHost, collected in `into`. */
function counting(opened: OpenedHosts, into: CountingHost[]): OpenedHosts {
  const hosts = new Map([...opened.hosts].map(([name, h]) => {
    const c = new CountingHost(h);
    into.push(c);
    return [name, c] as const;
  }));
  return { hosts, close: () => opened.close() };
}

const sizes = (process.argv[2] ?? '1,10,50,100').split(',').map(Number).sort((a, b) => a - b);
const runs = Number(process.argv[3] ?? 1);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const bootStarted = performance.now();
const lab = await startLab({ nodes: Math.max(...sizes) });
console.log(`${lab.nodes.length} lab nodes ready in ${((performance.now() - bootStarted) / 1000).toFixed(1)} s; load average ${load()}`);
try {
  await mapPool(lab.nodes, 8, (n) => lab.nodeExec(n.name, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']));
  const inventoryPath = await lab.writeInventory();
  const inventory = await loadYamlFile(inventoryPath, Inventory);
  const plan = planFrom(inventory, undefined, undefined);
  const all: DoctorTarget[] = inventory.hosts.map((h) => ({ name: h.name, address: h.address, roles: h.roles }));
  const NO_PAIRS = { skip: ['ipip', 'vxlan-udp', 'tcp-reach', 'probe-agent', 'clock-skew'] };

  async function once(targets: DoctorTarget[], selection: { skip?: string[] }) {
    const counted: CountingHost[] = [];
    const started = performance.now();
    const cpu = process.cpuUsage();
    const report = await runDoctor({
      cluster: inventory.name, targets, plan, now: () => new Date(), selection, concurrency: inventory.ssh.concurrency,
      opened: counting(openInventoryHosts(inventory, { inventoryPath, hostKeyPolicy: 'strict', homeDir: homedir(), agentSocket: undefined }), counted),
    });
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const mine = counted.filter((c) => targets.some((t) => t.name === c.name));
    const trips = mine.map((c) => c.calls.length);
    const pairFails = report.findings.filter((f) => f.status === 'fail' && f.pair && f.check !== 'ipip');
    const failures = report.summary.unreachable + (report.probes?.agentErrors.length ?? 0) + pairFails.length;
    const why = [
      ...report.hosts.filter((h) => !h.reachable).map((h) => `${h.name} unreachable: ${h.error}`),
      ...(report.probes?.agentErrors ?? []).map((e) => `${e.host} agent: ${e.error}`),
      ...pairFails.slice(0, 5).map((f) => `${f.check} ${f.pair!.from}->${f.pair!.to}: ${f.message}`),
    ];
    return { ms, breakdown: probeBreakdown(report, mine), cpuMs: (used.user + used.system) / 1000, trips: `${Math.min(...trips)}–${Math.max(...trips)}`, failures, why, pairs: report.probes?.tcp.length ?? 0 };
  }

  /** Failing directions by outcome and by node, the agents' start spread (admin clock), loop gaps and CPU, and the failures whose two agents ran together for under 1 s (#19). */
  function probeBreakdown(report: Awaited<ReturnType<typeof runDoctor>>, hosts: CountingHost[]): string[] {
    const p = report.probes;
    if (!p) return [];
    const offset = new Map(p.clock.map((c) => [c.host, c.offsetMs]));
    const runs = new Map<string, { start: number; end: number }>();
    const gaps: number[] = [];
    const cpu: number[] = [];
    for (const h of hosts)
      for (const line of h.agentLines) {
        try {
          const r = JSON.parse(line) as { startedAtMs?: number; elapsedMs?: number; maxGapMs?: number; cpuMs?: number };
          if (r.maxGapMs !== undefined) gaps.push(r.maxGapMs);
          if (r.cpuMs !== undefined) cpu.push(r.cpuMs);
          if (r.startedAtMs !== undefined) {
            const start = r.startedAtMs - (offset.get(h.name) ?? 0);
            runs.set(h.name, { start, end: start + (r.elapsedMs ?? 0) });
          }
        } catch {}
      }
    const count = (xs: { outcome: string }[]) => Object.entries(xs.reduce<Record<string, number>>((a, x) => ((a[x.outcome] = (a[x.outcome] ?? 0) + 1), a), {})).map(([k, v]) => `${k} ${v}`).join(', ');
    const starts = [...runs.values()].map((r) => r.start);
    const ends = [...runs.values()].map((r) => r.end);
    const t0 = Math.min(...starts);
    const overlap = (a: string, b: string) => {
      const x = runs.get(a), y = runs.get(b);
      return x && y ? Math.min(x.end, y.end) - Math.max(x.start, y.start) : NaN;
    };
    const bad = [...p.tcp.filter((t) => t.outcome !== 'ok' && t.outcome !== 'port-in-use'), ...p.udp.paths.filter((u) => u.outcome !== 'ok')];
    const short = bad.filter((f) => overlap(f.from, f.to) < 1000).length;
    const okOverlap = [...p.tcp.filter((t) => t.outcome === 'ok'), ...p.udp.paths.filter((u) => u.outcome === 'ok')].map((f) => overlap(f.from, f.to)).filter((o) => !Number.isNaN(o));
    return [
      `tcp: ${count(p.tcp)}; udp: ${count(p.udp.paths)}`,
      `agents: ${runs.size}; start spread ${(Math.max(...starts) - t0).toFixed(0)} ms; first end ${(Math.min(...ends) - t0).toFixed(0)} ms, last end ${(Math.max(...ends) - t0).toFixed(0)} ms after the first start; run ${Math.min(...ends.map((e, i) => e - starts[i]!))}–${Math.max(...ends.map((e, i) => e - starts[i]!))} ms`,
      `agents' longest loop gap ${Math.min(...gaps)}–${Math.max(...gaps)} ms (median ${gaps.sort((a, b) => a - b)[gaps.length >> 1]}); CPU ${cpu.reduce((a, b) => a + b, 0)} ms in all`,
      `udp dropped per receiver: ${[...new Set(p.udp.paths.map((u) => u.to))].map((n) => `${n}:${p.udp.paths.filter((u) => u.to === n && u.outcome !== 'ok').length}`).join(' ')}`,
      `udp dropped per sender: ${[...new Set(p.udp.paths.map((u) => u.from))].map((n) => `${n}:${p.udp.paths.filter((u) => u.from === n && u.outcome !== 'ok').length}`).join(' ')}`,
      `tcp timeout per target: ${[...new Set(p.tcp.map((u) => u.to))].map((n) => `${n}:${p.tcp.filter((u) => u.to === n && u.outcome !== 'ok').length}/${p.tcp.filter((u) => u.to === n).length}`).join(' ')}`,
      `failing directions (tcp+udp) ${bad.length}, of them with both agents' runs overlapping < 1 s: ${short}; passing directions' overlap min ${Math.min(...okOverlap)} ms`,
    ];
  }

  console.log('| checks | nodes | wall (s) | admin CPU (s) | round trips per host | TCP pairs probed | failures | load average |\n|---|---|---|---|---|---|---|---|');
  for (const [label, selection] of [['all', {}], ['node checks only', NO_PAIRS]] as const) {
    for (const size of sizes) {
      for (let r = 0; r < runs; r++) {
        const o = await once(all.slice(0, size), selection);
        console.log(`| ${label} | ${size} | ${(o.ms / 1000).toFixed(2)} | ${(o.cpuMs / 1000).toFixed(2)} | ${o.trips} | ${o.pairs} | ${o.failures} | ${load()} |`);
        for (const w of [...o.breakdown, ...o.why]) console.log(`    ${w}`);
        if (label === 'all' && size >= 50) {
          // The network's view from two nodes right after the probes: neighbour states, UDP and IP counters.
          for (const n of [lab.nodes[1]!, lab.nodes[7]!]) {
            const r = await lab.nodeExec(n.name, ['sh', '-c', "ip neigh show | awk '{print $NF}' | sort | uniq -c | tr '\\n' ' '; echo; grep -E '^(Udp|Ip|Tcp):' /proc/net/snmp; nstat -az 2>/dev/null | grep -Ei 'drop|overflow|fail|Unres|ArpFilter' | grep -v ' 0 ' | tr -s ' ' | tr '\\n' ';'"], { allowFailure: true });
            console.log(`    ${n.name}: ${JSON.stringify(r).slice(0, 1500)}`);
          }
        }
      }
    }
  }
} finally {
  await lab.stop();
}
