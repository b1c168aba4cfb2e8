// The doctor gate of preflight: doctor's node checks and pair probes over the install's own (already open, audited)
// hosts, once for the whole cluster. Keeps doctor's recommendation in the run state (chooseEncapsulation reads it),
// prints warnings, and fails preflight, naming each failed check, its host and doctor's fix, unless allowed.
import { checkIds } from '../checks/registry.ts';
import { runDoctor } from '../doctor/doctor.ts';
import { judgeGate } from '../doctor/gate-verdict.ts';
import { planFrom } from '../doctor/plan.ts';
import { PhaseError, UserError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { runWarnings } from './os-prepare.ts';
import type { PhaseContext, PhaseTarget } from './phase.ts';

/** Preflight stopped by failed doctor checks; its hint names the --allow-failed-check ids. */
export class DoctorGateError extends PhaseError {}

/** Refuse --allow-failed-check ids doctor does not know, before anything runs. */
export function checkAllowedIds(ids: readonly string[]): void {
  const known = checkIds();
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length > 0)
    throw new UserError(`--allow-failed-check: no doctor check ${unknown.map((u) => `"${u}"`).join(', ')}`, { hint: `check ids: ${known.join(', ')}` });
}

/** Run doctor over the preflight targets; throws PhaseError (exit 7) when a check failed that is not allowed. */
export async function doctorGate(targets: readonly PhaseTarget[], ctx: PhaseContext): Promise<void> {
  const hosts = new Map<string, Host>(targets.map((t) => [t.spec.name, t.host]));
  const report = await runDoctor({
    cluster: ctx.inventory.name,
    targets: targets.map((t) => ({ name: t.spec.name, address: t.spec.address, roles: t.spec.roles })),
    plan: planFrom(ctx.inventory, ctx.lock, undefined),
    // The install owns these connections and closes them itself.
    opened: { hosts, close: async () => undefined },
    now: ctx.now,
    selection: {},
    concurrency: ctx.inventory.ssh.concurrency,
    // The ip-tunnel fallback creates a (temporary) device on the node; the gate must change nothing.
    tunnels: false,
  });
  ctx.state.doctorRecommendation = report.recommendation;
  const verdict = judgeGate(report, ctx.allowFailedChecks ?? []);
  runWarnings(ctx).push(...verdict.warnings);
  if (verdict.blocking.size === 0) return;
  const failures = new Map([...verdict.blocking].map(([host, lines]) => [host, new Error(`doctor: ${lines.join('\n    ')}`)]));
  throw new DoctorGateError('preflight', failures, {
    hint: `fix each check as doctor says (ferry doctor -i <inventory> shows the whole report), or go on anyway with --allow-failed-check ${verdict.blockingIds.join(',')}`,
  });
}
