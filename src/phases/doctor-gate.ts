// The doctor gate of preflight: doctor's node checks over the facts preflight already read, and its pair probes over
// the install's own (already open, audited) hosts, once for the whole cluster. Keeps doctor's recommendation in the run state (chooseEncapsulation reads it),
// prints warnings, and fails preflight, naming each failed check, its host and doctor's fix, unless allowed.
import { checkIds } from '../checks/registry.ts';
import { runDoctor } from '../doctor/doctor.ts';
import { judgeGate } from '../doctor/gate-verdict.ts';
import type { DoctorReport } from '../doctor/model.ts';
import { planFrom } from '../doctor/plan.ts';
import { PhaseError, UserError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import type { ApplyStage, PhaseContext, PhaseTarget } from './phase.ts';

/** Preflight stopped by failed doctor checks; its hint names the --allow-failed-check ids. */
export class DoctorGateError extends PhaseError {}

/** Refuse --allow-failed-check ids doctor does not know, before anything runs. */
export function checkAllowedIds(ids: readonly string[]): void {
  const known = checkIds();
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length > 0)
    throw new UserError(`--allow-failed-check: no doctor check ${unknown.map((u) => `"${u}"`).join(', ')}`, { hint: `check ids: ${known.join(', ')}` });
}

/** What the gate sees: doctor's report over the facts preflight read (no node is read twice) and the pair probes. */
export async function observeGate(targets: readonly PhaseTarget[], ctx: PhaseContext): Promise<DoctorReport> {
  const hosts = new Map<string, Host>(targets.map((t) => [t.spec.name, t.host]));
  const gathered = new Map(targets.flatMap((t) => {
    const known = ctx.state.facts.get(t.spec.name);
    return known ? [[t.spec.name, known.gathered] as const] : [];
  }));
  return runDoctor({
    cluster: ctx.inventory.name,
    targets: targets.map((t) => ({ name: t.spec.name, address: t.spec.address, roles: t.spec.roles })),
    plan: planFrom(ctx.inventory, ctx.lock, undefined),
    // The install owns these connections and closes them itself.
    opened: { hosts, close: async () => undefined },
    gathered,
    now: ctx.now,
    selection: {},
    concurrency: ctx.inventory.ssh.concurrency,
    // The ip-tunnel fallback creates a (temporary) device on the node; the gate must change nothing.
    tunnels: false,
  });
}

/** What the gate makes of the report (pure): the warnings to print and, when a check failed that is not allowed, the refusal. */
export function planGate(report: DoctorReport, allowed: readonly string[]): { warnings: string[]; refusal?: DoctorGateError } {
  const verdict = judgeGate(report, allowed);
  if (verdict.blocking.size === 0) return { warnings: verdict.warnings };
  const failures = new Map([...verdict.blocking].map(([host, lines]) => [host, new Error(`doctor: ${lines.join('\n    ')}`)]));
  return {
    warnings: verdict.warnings,
    refusal: new DoctorGateError('preflight', failures, {
      hint: `fix each check as doctor says (ferry doctor -i <inventory> shows the whole report), or go on anyway with --allow-failed-check ${verdict.blockingIds.join(',')}`,
    }),
  };
}

/**
 * preflight's afterAll: observe, keep doctor's recommendation in the run state (what it saw, for the later phases'
 * plans), plan, and hand the warnings to `apply` as steps; throws PhaseError (exit 7) on a refusal. It changes no node.
 */
export async function doctorGate(targets: readonly PhaseTarget[], ctx: PhaseContext, apply: ApplyStage): Promise<void> {
  const report = await observeGate(targets, ctx);
  ctx.state.doctorRecommendation = report.recommendation;
  const { warnings, refusal } = planGate(report, ctx.allowFailedChecks ?? []);
  await apply(warnings.map((message) => ({ kind: 'warn' as const, message })));
  if (refusal) throw refusal;
}
