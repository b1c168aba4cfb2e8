// The doctor report: what --json prints and the table renders. Built by a pure function from what was gathered.
import type { ClusterContext, Finding, Plan } from '../checks/types.ts';
import { recommend, type Recommendation } from '../checks/recommend.ts';
import { runClusterChecks, runNodeChecks, type Selection } from '../checks/registry.ts';
import type { Facts } from '../facts/types.ts';
import type { ProbeResults } from '../probes/types.ts';
import { ExitCode } from '../errors.ts';
import type { Role, SelinuxPolicy } from '../config/inventory.ts';

/** Version of the --json shape; bumped on any incompatible change. */
export const REPORT_VERSION = 1;

export interface HostEntry {
  name: string;
  address: string;
  roles: Role[];
  /** The inventory's rack, when it names one. */
  rack?: string;
  reachable: boolean;
  /** Why the host could not be checked (unreachable, host key refused, facts script failed). */
  error?: string;
  /** What to do about `error` (e.g. how to check and replace a changed host key). */
  remedy?: string;
  os?: string;
  kernel?: string;
}

export interface DoctorReport {
  reportVersion: typeof REPORT_VERSION;
  generatedAt: string;
  cluster: string | null;
  kubernetes: { version: string; source: Plan['kubernetesVersionSource'] };
  hosts: HostEntry[];
  findings: Finding[];
  /** null when fewer than two hosts were reachable (nothing to probe). */
  probes: ProbeResults | null;
  recommendation: Recommendation;
  summary: { pass: number; warn: number; fail: number; unreachable: number };
  /** 0 pass or warnings only, 4 a failure, 5 a host unreachable (wins over 4: the report is incomplete). */
  exitCode: number;
}

/** Outcome of gathering one host. */
export type Gathered = { name: string; address: string; roles: Role[]; selinux?: SelinuxPolicy; rack?: string } & ({ facts: Facts } | { error: string; remedy?: string });

export interface ReportInput {
  cluster: string | undefined;
  generatedAt: Date;
  plan: Plan;
  gathered: readonly Gathered[];
  probes: ProbeResults | undefined;
  selection: Selection;
}

/** Run every selected check over the gathered facts and probes and assemble the report. */
export function buildReport(input: ReportInput): DoctorReport {
  const reachable = input.gathered.filter((g): g is Extract<Gathered, { facts: Facts }> => 'facts' in g);
  const peers = reachable.map((g) => ({ name: g.name, address: g.address, roles: g.roles }));
  const nodes = reachable.map((g) => ({ name: g.name, address: g.address, roles: g.roles, plan: input.plan, peers, ...(g.selinux ? { selinux: g.selinux } : {}) }));
  const facts = new Map(reachable.map((g) => [g.name, g.facts]));
  const ctx: ClusterContext = { nodes, facts, probes: input.probes, plan: input.plan };
  const findings = [
    ...reachable.flatMap((g, i) => runNodeChecks(g.facts, nodes[i]!, input.selection)),
    ...runClusterChecks(ctx, input.selection),
  ];
  const unreachable = input.gathered.length - reachable.length;
  const count = (s: Finding['status']) => findings.filter((f) => f.status === s).length;
  const summary = { pass: count('pass'), warn: count('warn'), fail: count('fail'), unreachable };
  return {
    reportVersion: REPORT_VERSION,
    generatedAt: input.generatedAt.toISOString(),
    cluster: input.cluster ?? null,
    kubernetes: { version: input.plan.kubernetesVersion, source: input.plan.kubernetesVersionSource },
    hosts: input.gathered.map((g) =>
      'facts' in g
        ? { name: g.name, address: g.address, roles: g.roles, ...(g.rack ? { rack: g.rack } : {}), reachable: true, os: g.facts.os.prettyName, kernel: g.facts.kernel.release }
        : { name: g.name, address: g.address, roles: g.roles, ...(g.rack ? { rack: g.rack } : {}), reachable: false, error: g.error, ...(g.remedy ? { remedy: g.remedy } : {}) },
    ),
    findings,
    probes: input.probes ?? null,
    recommendation: recommend(ctx),
    summary,
    exitCode: unreachable > 0 ? ExitCode.hostUnreachable : summary.fail > 0 ? ExitCode.checksFailed : ExitCode.ok,
  };
}
