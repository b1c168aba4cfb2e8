// Plans and reads the pairwise probes: who listens on what, who sends to whom, and what each direction's outcome was.
import type { Role } from '../config/inventory.ts';
import { portsFor, vxlanPort } from '../checks/ports-plan.ts';
import type { Plan } from '../checks/types.ts';
import type { PathResult, ProbeResults, TcpOutcome, TcpResult } from './types.ts';

export interface ProbeNode {
  name: string;
  address: string;
  roles: readonly Role[];
  /** The inventory's rack (groups pairs with `--pairs rack`). */
  rack?: string;
}

/** What the agent on one node is told (agent.py reads exactly these keys). */
export interface AgentConfig {
  run: string;
  me: string;
  index: number;
  ipip: boolean;
  udpPort: number;
  durationMs: number;
  /** Packets (protocol 4 and UDP together) the agent sends per second at most. */
  packetsPerSecond: number;
  /** TCP connects in flight at once at most. */
  maxConnects: number;
  peers: { name: string; address: string; index: number }[];
  listen: number[];
  connect: { to: string; address: string; port: number }[];
}

/** What agent.py prints. */
export interface AgentReport {
  host: string;
  ipipFrom: string[];
  udpFrom: string[];
  listen: Record<string, string>;
  tcp: Record<string, string>;
  sendErrors: Record<string, string>;
  errors: string[];
  /** Packets sent (protocol 4 and UDP), against the rate bound. */
  sent?: number;
  elapsedMs?: number;
  /** The longest the agent's loop did not run (its CPU starved), and the CPU time it used. */
  maxGapMs?: number;
  cpuMs?: number;
  /** When the agent started, by the node's clock (ms since the epoch). */
  startedAtMs?: number;
}

/** How hard one agent may push: its packet rate, its connects in flight, and the deadline of a small cluster. */
export interface AgentLimits {
  packetsPerSecond: number;
  maxConnects: number;
  /** The deadline when few peers are involved (a blocked path costs this). */
  baseMs: number;
}

/**
 * 2000 packets/s is what a 100-node cluster sent before the bound (two packets per peer every 100 ms), so up to 100
 * nodes nothing changes; beyond that a round of packets takes longer instead of the rate growing (every node then
 * also receives at most about 2000 packets/s of probes). 64 connects in flight stay far below the 1024 open files a
 * node allows a process by default and below a listener's 128-connection backlog on older kernels.
 */
export const AGENT_LIMITS: AgentLimits = { packetsPerSecond: 2000, maxConnects: 64, baseMs: 3000 };

/** A TCP attempt that has not connected by then counts as timed out (agent.py's constant). */
const CONNECT_TIMEOUT_MS = 1000;

/**
 * The agent's deadline for `peers` peers and `connects` connects: the small-cluster deadline, or, when more, three
 * full rounds of packets at the rate bound plus one connect timeout per wave of connects and a second to spare.
 */
export function agentDeadlineMs(peers: number, connects: number, limits: AgentLimits = AGENT_LIMITS): number {
  const rounds = (3 * 2 * peers * 1000) / limits.packetsPerSecond;
  const waves = Math.ceil(connects / limits.maxConnects) * CONNECT_TIMEOUT_MS;
  return Math.max(limits.baseMs, Math.ceil(rounds + waves + 1000));
}

export interface PlanOptions {
  /** Each node's peers (selectPairs); default every other node. */
  peers?: ReadonlyMap<string, readonly string[]>;
  /** Every agent's deadline; default the largest agentDeadlineMs among them, so they all stop by the same time. */
  durationMs?: number;
  limits?: AgentLimits;
}

/** One agent config per node: a node sends protocol 4 and UDP to each of its peers, and connects to their ports per the port plan. */
export function planProbes(nodes: readonly ProbeNode[], plan: Plan, run: string, options: PlanOptions = {}): Map<string, AgentConfig> {
  const limits = options.limits ?? AGENT_LIMITS;
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  const peersOf = (n: ProbeNode) => {
    const named = options.peers?.get(n.name);
    const set = named && new Set(named);
    return set ? nodes.filter((p) => set.has(p.name)) : nodes.filter((p) => p.name !== n.name);
  };
  const configs = new Map<string, AgentConfig>();
  for (const node of nodes) {
    const peers = peersOf(node);
    const listen = portsFor(node.roles, plan)
      .filter((p) => !p.localOnly && peers.some((src) => reaches(src, p.from)))
      .map((p) => p.port);
    const connect = peers.flatMap((target) =>
      portsFor(target.roles, plan).filter((p) => !p.localOnly && reaches(node, p.from)).map((p) => ({ to: target.name, address: target.address, port: p.port })),
    );
    // Each agent starts with the peers after itself, so the first connects of all agents do not land on one node.
    const start = connect.findIndex((c) => index.get(c.to)! > index.get(node.name)!);
    configs.set(node.name, {
      run,
      me: node.name,
      index: index.get(node.name)!,
      ipip: true,
      udpPort: vxlanPort(plan.cni),
      durationMs: 0,
      packetsPerSecond: limits.packetsPerSecond,
      maxConnects: limits.maxConnects,
      peers: peers.map((p) => ({ name: p.name, address: p.address, index: index.get(p.name)! })),
      listen,
      connect: start <= 0 ? connect : [...connect.slice(start), ...connect.slice(0, start)],
    });
  }
  const durationMs = options.durationMs ?? Math.max(0, ...[...configs.values()].map((c) => agentDeadlineMs(c.peers.length, c.connect.length, limits)));
  for (const c of configs.values()) c.durationMs = durationMs;
  return configs;
}

function reaches(src: ProbeNode, from: readonly string[]): boolean {
  return from.includes('any') || src.roles.some((r) => from.includes(r));
}

/** A Python literal for plain data (python3-minimal has no json module): JSON strings and numbers are valid Python. */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`).join(', ')}}`;
}

/** agent.py with its config prepended as a Python literal, ready for `python3 -` on stdin. */
export function agentProgram(agentSource: string, config: AgentConfig): string {
  return `CONFIG = ${pythonLiteral(config)}\n${agentSource}`;
}

function pathOutcome(from: string, to: string, heard: AgentReport | string | undefined, sender: AgentReport | string | undefined, kind: 'ipip' | 'udp'): PathResult {
  if (typeof sender === 'string' || sender === undefined) return { from, to, outcome: 'unknown', detail: `no agent on ${from}: ${sender ?? 'not run'}` };
  if (typeof heard === 'string' || heard === undefined) return { from, to, outcome: 'unknown', detail: `no agent on ${to}: ${heard ?? 'not run'}` };
  const got = kind === 'ipip' ? heard.ipipFrom : heard.udpFrom;
  if (got.includes(from)) return { from, to, outcome: 'ok' };
  const sendError = sender.sendErrors[`${kind}:${to}`];
  if (sendError) return { from, to, outcome: 'send-error', detail: sendError };
  const listenError = heard.errors.find((e) => (kind === 'ipip' ? e.startsWith('raw socket') : e.startsWith('UDP port')));
  if (listenError) return { from, to, outcome: 'unknown', detail: `${to} could not listen: ${listenError}` };
  return { from, to, outcome: 'dropped' };
}

/** Turn every agent's report (or the error that kept it from running) into per-direction results. */
export function interpretReports(
  nodes: readonly ProbeNode[],
  configs: ReadonlyMap<string, AgentConfig>,
  reports: ReadonlyMap<string, AgentReport | string>,
  peers?: ReadonlyMap<string, readonly string[]>,
): Omit<ProbeResults, 'clock' | 'pairs'> {
  const ipip: PathResult[] = [];
  const udp: PathResult[] = [];
  const probed = peers && new Map([...peers].map(([name, list]) => [name, new Set(list)]));
  for (const from of nodes)
    for (const to of nodes) {
      if (from.name === to.name || (probed && !probed.get(from.name)?.has(to.name))) continue;
      ipip.push(pathOutcome(from.name, to.name, reports.get(to.name), reports.get(from.name), 'ipip'));
      udp.push(pathOutcome(from.name, to.name, reports.get(to.name), reports.get(from.name), 'udp'));
    }
  const tcp: TcpResult[] = [];
  for (const [name, config] of configs)
    for (const c of config.connect) {
      const src = reports.get(name);
      const dst = reports.get(c.to);
      if (typeof src !== 'object') {
        tcp.push({ from: name, to: c.to, port: c.port, outcome: 'unknown', detail: `no agent on ${name}` });
        continue;
      }
      const bound = typeof dst === 'object' ? dst.listen[String(c.port)] : undefined;
      const raw = src.tcp[`${c.to}:${c.port}`] ?? 'unknown';
      const outcome: TcpOutcome = bound === 'in-use' ? 'port-in-use' : (['ok', 'refused', 'timeout', 'other-service'].includes(raw) ? raw : 'unknown') as TcpOutcome;
      tcp.push(outcome === 'unknown' ? { from: name, to: c.to, port: c.port, outcome, detail: typeof dst === 'object' ? raw : `no agent on ${c.to}` } : { from: name, to: c.to, port: c.port, outcome });
    }
  const agentErrors = nodes.flatMap((n) => {
    const r = reports.get(n.name);
    if (typeof r === 'string') return [{ host: n.name, error: r }];
    return r && r.errors.length > 0 ? [{ host: n.name, error: r.errors.join('; ') }] : [];
  });
  return { ipip, udp: { port: configs.values().next().value?.udpPort ?? 0, paths: udp }, tcp, agentErrors };
}
