// Runs the probe agents on every node at once (one round trip each) and samples each node's clock against ours.
import { randomBytes } from 'node:crypto';
import type { Host } from '../hosts/host.ts';
import { productFile } from '../ship/embedded.ts';
import type { Plan } from '../checks/types.ts';
import { agentProgram, interpretReports, planProbes, type AgentReport, type ProbeNode } from './plan.ts';
import { selectPairs, type PairMode } from './pairs.ts';
import { mapHosts } from '../hosts/pool.ts';
import { probeTunnelPair } from './ipip-tunnel.ts';
import type { ClockSample, PathResult, ProbeResults } from './types.ts';

/** Pairs one node re-probes with ip tunnels at most (each costs a round trip on both ends); the rest stay unknown. */
export const TUNNEL_PAIRS_PER_NODE = 4;

export interface ProbeOptions {
  /** Interpreter per node (from facts): platform-python or python3; absent = no agent there. */
  python: ReadonlyMap<string, string | undefined>;
  /** Nodes where the iproute2 tunnel variant may run (ip present, root): the fallback for pairs without agents. */
  tunnelCapable?: ReadonlyMap<string, boolean>;
  /** Every agent's deadline; default from the peer count (agentDeadlineMs). Agents stop sooner once every direction is settled. */
  durationMs?: number;
  /** Which pairs to probe (default all). */
  pairs?: PairMode;
}

/** Run the agents on all `nodes` in parallel; each is bounded by its own deadline and by `timeout`. */
export async function runProbes(hosts: ReadonlyMap<string, Host>, nodes: readonly ProbeNode[], plan: Plan, options: ProbeOptions): Promise<Omit<ProbeResults, 'clock'>> {
  const run = randomBytes(6).toString('hex');
  const selection = selectPairs(nodes, { mode: options.pairs ?? 'all' });
  // Only nodes that can run an agent take part; directions touching the others are reported unknown.
  const agents = nodes.filter((n) => hosts.has(n.name) && options.python.get(n.name));
  const configs = planProbes(agents, plan, run, { peers: selection.peers, ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs }) });
  const source = await productFile('src/probes/agent.py');
  const limit = Math.ceil(Math.max(0, ...[...configs.values()].map((c) => c.durationMs)) / 1000) + 5;
  const reports = new Map<string, AgentReport | string>();
  // Every agent must be up at the same time, so all start together: the connections are already open.
  await Promise.all(
    nodes.map(async (node) => {
      const host = hosts.get(node.name);
      const python = options.python.get(node.name);
      const config = configs.get(node.name);
      if (!host || !python || !config) return reports.set(node.name, python ? 'host not connected' : 'no python3 or platform-python on the node');
      const r = await host.exec(['timeout', '-k', '2', String(limit), python, '-'], {
        stdin: agentProgram(source, config),
        allowFailure: true,
        // Read-only: the agent only opens sockets (listeners, a raw socket) that close when it exits, bounded by timeout.
        readOnly: true,
        timeoutMs: (limit + 10) * 1000,
      }).catch((error: unknown) => ({ exitCode: -1, stdout: '', stderr: String(error) }));
      const line = r.stdout.trim().split('\n').at(-1) ?? '';
      try {
        reports.set(node.name, JSON.parse(line) as AgentReport);
      } catch {
        reports.set(node.name, `agent failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
      }
    }),
  );
  const results = interpretReports(nodes, configs, reports, selection.peers);
  return { ...results, ipip: await tunnelFallback(hosts, nodes, results.ipip, run, options.tunnelCapable), pairs: selection.coverage };
}

/**
 * The pairs the ip tunnel variant re-probes: unknown ones between two capable nodes, each node in at most
 * `perNode` of them, so a node without python costs a bounded number of round trips whatever the cluster's size.
 */
export function tunnelPairs(ipip: readonly PathResult[], capable: ReadonlyMap<string, boolean> | undefined, perNode: number = TUNNEL_PAIRS_PER_NODE): PathResult[] {
  const used = new Map<string, number>();
  return ipip.filter((p) => {
    if (p.outcome !== 'unknown' || p.from >= p.to || !capable?.get(p.from) || !capable.get(p.to)) return false;
    if ((used.get(p.from) ?? 0) >= perNode || (used.get(p.to) ?? 0) >= perNode) return false;
    used.set(p.from, (used.get(p.from) ?? 0) + 1);
    used.set(p.to, (used.get(p.to) ?? 0) + 1);
    return true;
  });
}

/** Re-probe, with ip tunnels, some of the pairs the agents could not test (a node without python), where both ends allow it. */
async function tunnelFallback(hosts: ReadonlyMap<string, Host>, nodes: readonly ProbeNode[], ipip: PathResult[], run: string, capable: ReadonlyMap<string, boolean> | undefined): Promise<PathResult[]> {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const pairs = tunnelPairs(ipip, capable);
  if (pairs.length === 0) return ipip;
  const outcomes = await mapHosts(
    pairs.map((p, i) => ({ name: `${p.from}-${p.to}`, p, i })),
    ({ p, i }) => probeTunnelPair({ host: hosts.get(p.from)!, end: byName.get(p.from)! }, { host: hosts.get(p.to)!, end: byName.get(p.to)! }, run, i),
    { concurrency: 8 },
  );
  const replaced = new Map(outcomes.flatMap((o) => (o.ok ? o.value.map((r) => [`${r.from}>${r.to}`, r] as const) : [])));
  return ipip.map((p) => replaced.get(`${p.from}>${p.to}`) ?? p);
}

/** Node clock minus admin clock, corrected by half the round trip (NTP's offset formula with one sample). */
export function clockOffset(sentMs: number, remoteMs: number, receivedMs: number): { offsetMs: number; uncertaintyMs: number } {
  return { offsetMs: Math.round(remoteMs - (sentMs + receivedMs) / 2), uncertaintyMs: Math.round((receivedMs - sentMs) / 2) };
}

/** One round trip: `date +%s%N` on the node between two readings of the admin clock `now`. */
export async function sampleClock(host: Host, now: () => Date): Promise<ClockSample> {
  const sent = now().getTime();
  const r = await host.exec(['date', '+%s%N'], { readOnly: true, timeoutMs: 10_000 });
  const received = now().getTime();
  const remoteMs = Number(BigInt(r.stdout.trim()) / 1_000_000n);
  return { host: host.name, ...clockOffset(sent, remoteMs, received) };
}
