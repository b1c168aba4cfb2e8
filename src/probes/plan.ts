// Plans and reads the pairwise probes: who listens on what, who sends to whom, and what each direction's outcome was.
import type { Role } from '../config/inventory.ts';
import { portsFor, vxlanPort } from '../checks/ports-plan.ts';
import type { Plan } from '../checks/types.ts';
import type { PathResult, ProbeResults, TcpOutcome, TcpResult } from './types.ts';

export interface ProbeNode {
  name: string;
  address: string;
  roles: readonly Role[];
}

/** What the agent on one node is told (agent.py reads exactly these keys). */
export interface AgentConfig {
  run: string;
  me: string;
  index: number;
  ipip: boolean;
  udpPort: number;
  durationMs: number;
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
}

/** One agent config per node: every node sends protocol 4 and UDP to every peer; TCP per the port plan. */
export function planProbes(nodes: readonly ProbeNode[], plan: Plan, run: string, durationMs: number): Map<string, AgentConfig> {
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  const configs = new Map<string, AgentConfig>();
  for (const node of nodes) {
    const listen = portsFor(node.roles, plan)
      .filter((p) => !p.localOnly && nodes.some((src) => src.name !== node.name && reaches(src, p.from)))
      .map((p) => p.port);
    configs.set(node.name, {
      run,
      me: node.name,
      index: index.get(node.name)!,
      ipip: true,
      udpPort: vxlanPort(plan.cni),
      durationMs,
      peers: nodes.filter((p) => p.name !== node.name).map((p) => ({ name: p.name, address: p.address, index: index.get(p.name)! })),
      listen,
      connect: [],
    });
  }
  for (const target of nodes)
    for (const need of portsFor(target.roles, plan).filter((p) => !p.localOnly))
      for (const src of nodes)
        if (src.name !== target.name && reaches(src, need.from)) configs.get(src.name)!.connect.push({ to: target.name, address: target.address, port: need.port });
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
): Omit<ProbeResults, 'clock'> {
  const ipip: PathResult[] = [];
  const udp: PathResult[] = [];
  for (const from of nodes)
    for (const to of nodes) {
      if (from.name === to.name) continue;
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
