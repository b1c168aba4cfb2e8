// Orchestrates a doctor run: open hosts → gather facts (one round trip each) → clocks → probes → checks → report.
import { FerryError } from '../errors.ts';
import { gatherFacts, gatherScript } from '../facts/gather.ts';
import type { Host } from '../hosts/host.ts';
import type { Plan } from '../checks/types.ts';
import { selected, type Selection } from '../checks/registry.ts';
import { runProbes, sampleClock } from '../probes/run.ts';
import type { ClockSample, ProbeResults } from '../probes/types.ts';
import type { Role } from '../config/inventory.ts';
import { buildReport, type DoctorReport, type Gathered } from './model.ts';

export interface DoctorTarget {
  name: string;
  address: string;
  roles: Role[];
}

/** Opens a Host per target; a target that cannot be opened maps to the Error that says why. */
export type OpenHosts = (targets: readonly DoctorTarget[]) => Promise<Map<string, Host | Error>>;

export interface DoctorOptions {
  cluster: string | undefined;
  targets: readonly DoctorTarget[];
  plan: Plan;
  openHosts: OpenHosts;
  /** Admin clock: report time and the reference for clock skew. */
  now: () => Date;
  selection: Selection;
  /** Hosts gathered at once. */
  concurrency: number;
  probeDurationMs?: number;
}

const PROBE_CHECKS = ['ipip', 'vxlan-udp', 'tcp-reach', 'probe-agent'];

function describe(error: unknown): string {
  if (error instanceof FerryError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Run `fn` over `items` with at most `limit` at once, keeping order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The whole doctor run; never throws for a host problem (those become unreachable entries). */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const hosts = await options.openHosts(options.targets);
  try {
    const script = await gatherScript();
    const gathered: Gathered[] = await mapBounded(options.targets, options.concurrency, async (t) => {
      const host = hosts.get(t.name);
      if (!host || host instanceof Error) return { ...t, error: host ? describe(host) : 'not connected' };
      try {
        return { ...t, facts: await gatherFacts(host, { script }) };
      } catch (error) {
        return { ...t, error: describe(error) };
      }
    });
    const live = new Map<string, Host>();
    for (const g of gathered) if ('facts' in g) live.set(g.name, hosts.get(g.name) as Host);
    let clock: ClockSample[] = [];
    if (live.size > 1 && selected('clock-skew', options.selection))
      clock = (await Promise.all([...live.values()].map((h) => sampleClock(h, options.now).catch(() => undefined)))).filter((s) => s !== undefined);
    let probes: ProbeResults | undefined;
    if (live.size > 1 && PROBE_CHECKS.some((id) => selected(id, options.selection))) {
      const nodes = options.targets.filter((t) => live.has(t.name));
      const python = new Map(gathered.flatMap((g) => ('facts' in g ? [[g.name, g.facts.python] as const] : [])));
      probes = { ...(await runProbes(live, nodes, options.plan, { python, durationMs: options.probeDurationMs })), clock };
    } else if (clock.length > 0) probes = { ipip: [], udp: { port: 0, paths: [] }, tcp: [], clock, agentErrors: [] };
    return buildReport({ cluster: options.cluster, generatedAt: options.now(), plan: options.plan, gathered, probes, selection: options.selection });
  } finally {
    await Promise.all([...hosts.values()].map((h) => (h instanceof Error ? undefined : h.close().catch(() => undefined))));
  }
}
