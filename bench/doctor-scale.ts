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
    return { ms, cpuMs: (used.user + used.system) / 1000, trips: `${Math.min(...trips)}–${Math.max(...trips)}`, failures, why, pairs: report.probes?.tcp.length ?? 0 };
  }

  console.log('| checks | nodes | wall (s) | admin CPU (s) | round trips per host | TCP pairs probed | failures | load average |\n|---|---|---|---|---|---|---|---|');
  for (const [label, selection] of [['all', {}], ['node checks only', NO_PAIRS]] as const) {
    for (const size of sizes) {
      for (let r = 0; r < runs; r++) {
        const o = await once(all.slice(0, size), selection);
        console.log(`| ${label} | ${size} | ${(o.ms / 1000).toFixed(2)} | ${(o.cpuMs / 1000).toFixed(2)} | ${o.trips} | ${o.pairs} | ${o.failures} | ${load()} |`);
        for (const w of o.why) console.log(`    ${w}`);
      }
    }
  }
} finally {
  await lab.stop();
}
