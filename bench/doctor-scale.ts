// Benchmark: doctor on 1 lab node and on all of them; prints wall times, their ratio (goal: N nodes within 1.5x of one)
// and the round trips per host. Needs root (boots the lab). Usage: node bench/doctor-scale.ts [nodes=5] [runs=3]
import { Inventory } from '../src/config/inventory.ts';
import { loadYamlFile } from '../src/config/load.ts';
import { runDoctor, type DoctorTarget } from '../src/doctor/doctor.ts';
import { planFrom } from '../src/doctor/plan.ts';
import { openInventoryHosts } from '../src/doctor/ssh-hosts.ts';
import { homedir } from 'node:os';
import type { OpenedHosts } from '../src/doctor/doctor.ts';
import { startLab } from '../test/lab/lab.ts';
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

const nodes = Number(process.argv[2] ?? 5);
const runs = Number(process.argv[3] ?? 3);
const lab = await startLab({ nodes });
console.log(`load average before: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} on ${(await import('node:os')).cpus().length} CPUs (every lab node shares them)`);
try {
  for (const n of lab.nodes) await lab.nodeExec(n.name, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  const inventoryPath = await lab.writeInventory();
  const inventory = await loadYamlFile(inventoryPath, Inventory);
  const plan = planFrom(inventory, undefined, undefined);
  const all: DoctorTarget[] = inventory.hosts.map((h) => ({ name: h.name, address: h.address, roles: h.roles }));

  const NO_PAIRS = { skip: ['ipip', 'vxlan-udp', 'tcp-reach', 'probe-agent', 'clock-skew'] };

  async function once(targets: DoctorTarget[], selection: { skip?: string[] } = {}) {
    const counted: CountingHost[] = [];
    const started = performance.now();
    const cpu = process.cpuUsage();
    const report = await runDoctor({
      cluster: inventory.name,
      targets,
      plan,
      now: () => new Date(),
      selection,
      concurrency: inventory.ssh.concurrency,
      opened: counting(openInventoryHosts(inventory, { inventoryPath, hostKeyPolicy: 'strict', homeDir: homedir(), agentSocket: undefined }), counted),
    });
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const adminCpuMs = (used.user + used.system) / 1000;
    if (report.summary.unreachable > 0) throw new Error(`unreachable hosts: ${JSON.stringify(report.hosts.filter((h) => !h.reachable))}`);
    const mine = counted.filter((c) => targets.some((t) => t.name === c.name));
    return { ms, adminCpuMs, trips: mine.map((c) => c.calls.length), calls: mine[0]?.calls.map((c, i) => `${c} ${mine[0]!.execMs[i]} ms`) ?? [] };
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [label, selection] of [['all checks', {}], ['node checks only (no pairwise probes, no clock round trip)', NO_PAIRS]] as const) {
    const one: number[] = [];
    const many: number[] = [];
    let tripsOne: number[] = [];
    let tripsMany: number[] = [];
    let calls: string[] = [];
    let cpuOne = 0;
    let cpuMany = 0;
    for (let i = 0; i < runs; i++) {
      const a = await once(all.slice(0, 1), selection);
      const b = await once(all, selection);
      one.push(a.ms);
      many.push(b.ms);
      tripsOne = a.trips;
      tripsMany = b.trips;
      calls = b.calls;
      cpuOne = a.adminCpuMs;
      cpuMany = b.adminCpuMs;
    }
    console.log(`${label}:`);
    console.log(`  1 node:  median ${median(one).toFixed(0)} ms over ${runs} runs; round trips per host: ${tripsOne.join(', ')}`);
    console.log(`  ${nodes} nodes: median ${median(many).toFixed(0)} ms over ${runs} runs; round trips per host: ${tripsMany.join(', ')} (first host: ${calls.join(' | ')})`);
    console.log(`  ratio ${nodes} nodes / 1 node: ${(median(many) / median(one)).toFixed(2)}x (goal <= 1.5x); ferry's own CPU: ${cpuOne.toFixed(0)} ms for 1 node, ${cpuMany.toFixed(0)} ms for ${nodes}`);
  }
} finally {
  await lab.stop();
}
