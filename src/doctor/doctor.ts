// Orchestrates a doctor run: open hosts → gather facts (one round trip each) → clocks → probes → checks → report.
import { FerryError, InternalError } from '../errors.ts';
import { mapHosts } from '../hosts/pool.ts';
import { gatherFacts, gatherScript } from '../facts/gather.ts';
import type { Facts } from '../facts/types.ts';
import type { Host } from '../hosts/host.ts';
import type { Plan } from '../checks/types.ts';
import { selected, type Selection } from '../checks/registry.ts';
import { runProbes, sampleClock } from '../probes/run.ts';
import type { ProbeResults } from '../probes/types.ts';
import type { PairMode } from '../probes/pairs.ts';
import type { Role, SelinuxPolicy } from '../config/inventory.ts';
import { buildReport, type DoctorReport, type Gathered } from './model.ts';

export interface DoctorTarget {
  name: string;
  address: string;
  roles: Role[];
  /** The inventory's SELinux policy for the host (doctor's security-policy check judges by it). */
  selinux?: SelinuxPolicy;
  /** The inventory's rack: with `pairs: 'rack'`, every pair within it is probed, representatives across racks. */
  rack?: string;
}

/** The hosts of a run (connections may open lazily) and how to close them all. */
export interface OpenedHosts {
  hosts: ReadonlyMap<string, Host>;
  close(): Promise<void>;
}

export interface DoctorOptions {
  cluster: string | undefined;
  targets: readonly DoctorTarget[];
  plan: Plan;
  /** Hosts for the targets; opened by the caller (SSH for an inventory, LocalHost for --local), closed by runDoctor. */
  opened: OpenedHosts;
  /** Admin clock: report time and the reference for clock skew. */
  now: () => Date;
  selection: Selection;
  /** Hosts gathered at once. */
  concurrency: number;
  probeDurationMs?: number;
  /** Which node pairs the probes test (default all; `rack`: within racks or subnets, representatives across them). */
  pairs?: PairMode;
  /** Facts already read this run (install's preflight), by host: those hosts are not read again. */
  gathered?: ReadonlyMap<string, Facts>;
  /** Whether pairs without a probe agent may be probed with temporary ip tunnels (default true; install's gate says no). */
  tunnels?: boolean;
  /** Also list every installed package in the facts round trip (for the site file). */
  packages?: boolean;
}

const PROBE_CHECKS = ['ipip', 'vxlan-udp', 'tcp-reach', 'probe-agent'];

/** Why a host could not be checked, and what to do about it when the error says. */
function describe(error: unknown): { error: string; remedy?: string } {
  if (error instanceof FerryError) return error.hint ? { error: error.message, remedy: error.hint } : { error: error.message };
  return { error: error instanceof Error ? error.message : String(error) };
}

/** The whole doctor run; never throws for a host problem (those become unreachable entries). */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  return (await runDoctorWithFacts(options)).report;
}

/** The same run, also returning what was gathered per host (the site file is built from it). */
export async function runDoctorWithFacts(options: DoctorOptions): Promise<{ report: DoctorReport; gathered: Gathered[] }> {
  const { hosts } = options.opened;
  try {
    const script = await gatherScript();
    const outcomes = await mapHosts(options.targets, async (t) => {
      const host = hosts.get(t.name);
      const known = options.gathered?.get(t.name);
      if (known) return known;
      if (!host) throw new InternalError(`no host opened for ${t.name}`);
      return gatherFacts(host, { script, packages: options.packages === true });
    }, { concurrency: options.concurrency });
    const gathered: Gathered[] = outcomes.map((o, i) => ({ ...options.targets[i]!, ...(o.ok ? { facts: o.value } : describe(o.error)) }));
    const live = new Map<string, Host>();
    for (const g of gathered) if ('facts' in g) live.set(g.name, hosts.get(g.name)!);
    const wantClock = live.size > 1 && selected('clock-skew', options.selection);
    const wantProbes = live.size > 1 && PROBE_CHECKS.some((id) => selected(id, options.selection));
    const nodes = options.targets.filter((t) => live.has(t.name));
    const python = new Map(gathered.flatMap((g) => ('facts' in g ? [[g.name, g.facts.python] as const] : [])));
    const tunnelCapable = new Map(gathered.flatMap((g) => ('facts' in g ? [[g.name, options.tunnels !== false && g.facts.isRoot && g.facts.tools.ip !== undefined] as const] : [])));
    // Clock samples and probes use separate SSH channels, so they run side by side.
    const [clock, pairs] = await Promise.all([
      wantClock ? Promise.all([...live.values()].map((h) => sampleClock(h, options.now).catch(() => undefined))).then((xs) => xs.filter((s) => s !== undefined)) : [],
      wantProbes ? runProbes(live, nodes, options.plan, { python, tunnelCapable, durationMs: options.probeDurationMs, pairs: options.pairs }) : undefined,
    ]);
    const empty = { ipip: [], udp: { port: 0, paths: [] }, tcp: [], agentErrors: [] };
    const probes: ProbeResults | undefined = pairs || clock.length > 0 ? { ...(pairs ?? empty), clock } : undefined;
    const report = buildReport({ cluster: options.cluster, generatedAt: options.now(), plan: options.plan, gathered, probes, selection: options.selection });
    return { report, gathered };
  } finally {
    await options.opened.close();
  }
}
