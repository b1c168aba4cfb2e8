// Runs a playbook: phases in order, each over its hosts (bounded parallel or serial), stopping after the first
// phase that failed anywhere. Per host: observe → plan → apply, again until the plan is empty (an empty first plan
// is "already done"); a dry run applies the first plan to recording hosts and stops there. A phase's afterAll
// (once over all its hosts) applies its steps through the same applier.
// The runner, not the phases, owns dry-run (through the host factory), --only/--skip, the clock and the report.
import { PhaseError, UserError } from '../errors.ts';
import type { PlaybookPhase } from '../config/playbook.ts';
import type { AnyPhase, ApplyStage, PhaseContext, PhaseTarget } from './phase.ts';
import type { Host } from '../hosts/host.ts';
import { ReadOnlyHost } from '../hosts/read-only.ts';
import { applySteps, type ApplyTarget } from './apply.ts';
import { describeStep } from './step.ts';
import { formatIssue } from '../errors.ts';
import { formatPath } from '../config/parse.ts';

export type HostOutcome = 'ran' | 'already-done' | 'failed' | 'not-reached';

export type RunEvent =
  | { type: 'phase-start'; phase: string; title: string; hosts: string[] }
  | { type: 'host-start'; phase: string; host: string }
  | { type: 'host-end'; phase: string; host: string; outcome: HostOutcome; durationMs: number; error?: Error }
  | { type: 'phase-end'; phase: string; ok: boolean }
  | { type: 'phase-skipped'; phase: string; reason: string };

export interface RunOptions {
  only?: readonly string[];
  skip?: readonly string[];
  /** Only these hosts (add-node): other targets are left out, except in phases whose files name every node. */
  limit?: ReadonlySet<string>;
  /** Hosts at once within a parallel phase. */
  concurrency: number;
  /** The Host a phase gets for an inventory host name (live, dry-run recording, audited: the caller decides). */
  hostFor: (name: string) => Host;
  onEvent?: (event: RunEvent) => void;
  /** Called as each phase begins, so wrappers (audit) can name it. */
  onPhase?: (phase: string | undefined) => void;
  signal?: AbortSignal;
  /** The hosts record instead of acting: each host gets one plan, applied to them, and no second look. */
  dryRun?: boolean;
  /** In a dry run: where a task step (work that is neither a command nor a file) is recorded instead of run. */
  recordTask?: (host: string, what: string) => void;
  /** A monotonic clock in milliseconds, for durations (default performance.now). */
  clock?: () => number;
}

export interface PhaseReport {
  phase: string;
  hosts: Record<string, HostOutcome>;
}

/** Resolve the playbook's phase ids against the registry and check each phase's parameters, before anything runs. */
export function planPlaybook(steps: readonly PlaybookPhase[], registry: ReadonlyMap<string, AnyPhase>, source: string) {
  const problems: string[] = [];
  const plan = steps.flatMap((step, i) => {
    const phase = registry.get(step.id);
    if (!phase) {
      problems.push(`${source}: phases[${i}]: unknown phase "${step.id}" (known: ${[...registry.keys()].join(', ')})`);
      return [];
    }
    // The undo a phase names is what `ferry reset` runs for it (undo.ts): it must exist before anything runs.
    if (typeof phase.undo === 'string' && !registry.has(phase.undo))
      problems.push(`${source}: phases[${i}]: phase "${step.id}" names its undo "${phase.undo}", which is no known phase`);
    if (!phase.params) return [{ phase, params: step.params }];
    const parsed = phase.params.safeParse(step.params);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push(formatIssue({ file: source, field: `phases[${i}].with.${formatPath(issue.path)}`, message: issue.message }));
      return [];
    }
    return [{ phase, params: parsed.data }];
  });
  if (problems.length > 0) throw new UserError(problems.join('\n'));
  return plan;
}

function selected(id: string, options: RunOptions, known: ReadonlySet<string>): string | undefined {
  for (const name of [...(options.only ?? []), ...(options.skip ?? [])])
    if (!known.has(name)) throw new UserError(`--only/--skip: no phase "${name}" in this playbook (phases: ${[...known].join(', ')})`);
  if (options.only && options.only.length > 0 && !options.only.includes(id)) return 'not in --only';
  if (options.skip?.includes(id)) return 'in --skip';
  return undefined;
}

/** Where steps act for `node` (a host's plan, or an afterAll's steps): the run's hosts, its dry-run and task recording. */
function applyTarget(node: { name: string; host: Host }, ctx: PhaseContext, o: RunOptions): ApplyTarget {
  const dryRun = o.dryRun === true;
  return {
    node: node.host, admin: ctx.admin, state: ctx.state, addSecret: ctx.addSecret, ...(ctx.hostFor ? { hostFor: ctx.hostFor } : {}),
    ...(dryRun ? { dryRun, recordTask: (what: string) => o.recordTask?.(node.name, what) } : {}),
  };
}

/** The applier a phase's afterAll gets: steps on `on`'s node (else the admin host), as a plan's are applied. */
function stageApplier(ctx: PhaseContext, o: RunOptions): ApplyStage {
  return (steps, on) => applySteps(steps, applyTarget(on ? { name: on.spec.name, host: on.host } : { name: ctx.admin.name, host: ctx.admin }, ctx, o));
}

/** Observe → plan → apply until the plan is empty, within the phase's rounds. */
async function converge(target: PhaseTarget, phase: AnyPhase, params: unknown, ctx: PhaseContext, o: RunOptions): Promise<HostOutcome> {
  const dryRun = o.dryRun === true;
  const apply = applyTarget({ name: target.spec.name, host: target.host }, ctx, o);
  const rounds = phase.rounds ?? 3;
  const seen = { spec: target.spec, host: new ReadOnlyHost(target.host), admin: new ReadOnlyHost(ctx.admin) };
  let steps: ReturnType<typeof phase.plan> = [];
  for (let round = 1; round <= rounds; round++) {
    steps = phase.plan(await phase.observe(seen, ctx, params), { spec: target.spec, ctx, params });
    // Warnings are not work: a plan of warnings only is done (and says them once).
    if (steps.every((s) => s.kind === 'warn')) {
      await applySteps(steps, apply);
      return round === 1 ? 'already-done' : 'ran';
    }
    if (round === rounds) break;
    await applySteps(steps, apply);
    if (dryRun) return 'ran';
  }
  throw new UserError(`${target.spec.name}: ${phase.id} is still not done after ${rounds - 1} application(s); what it would still do: ${steps.map(describeStep).join('; ')}`, {
    hint: 'something on the node undoes the change or the change does not take effect: look at the commands above in the audit log',
  });
}

async function visit(target: PhaseTarget, phase: AnyPhase, params: unknown, ctx: PhaseContext, emit: (e: RunEvent) => void, o: RunOptions) {
  const clock = o.clock ?? (() => performance.now());
  const started = clock();
  const took = () => Math.round(clock() - started);
  emit({ type: 'host-start', phase: phase.id, host: target.spec.name });
  try {
    const outcome = await converge(target, phase, params, ctx, o);
    emit({ type: 'host-end', phase: phase.id, host: target.spec.name, outcome, durationMs: took() });
    return outcome;
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    emit({ type: 'host-end', phase: phase.id, host: target.spec.name, outcome: 'failed', durationMs: took(), error: err });
    throw err;
  }
}

/** Run the planned phases in order. Throws PhaseError naming the phase and every failed host. */
export async function runPhases(
  plan: readonly { phase: AnyPhase; params: unknown }[],
  ctx: PhaseContext,
  options: RunOptions,
): Promise<PhaseReport[]> {
  const emit = options.onEvent ?? (() => {});
  const phaseCtx: PhaseContext = ctx.hostFor ? ctx : { ...ctx, hostFor: options.hostFor };
  const known = new Set(plan.map((p) => p.phase.id));
  const reports: PhaseReport[] = [];
  // Every selected phase checks the run's inputs first; a refusal there changes nothing on any node (exit 7 names
  // the phase, with the admin host as where it failed).
  for (const { phase, params } of plan) {
    if (selected(phase.id, options, known) || !phase.check) continue;
    try {
      await phase.check(phaseCtx, params);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      throw new PhaseError(phase.id, new Map([['admin host', error]]), { cause: error });
    }
  }
  for (const { phase, params } of plan) {
    const reason = selected(phase.id, options, known);
    if (reason) {
      emit({ type: 'phase-skipped', phase: phase.id, reason });
      continue;
    }
    options.signal?.throwIfAborted();
    const all = phase.targets(phaseCtx, params);
    const specs = options.limit && !phase.wholeCluster ? all.filter((h) => options.limit!.has(h.name)) : all;
    emit({ type: 'phase-start', phase: phase.id, title: phase.title, hosts: specs.map((h) => h.name) });
    options.onPhase?.(phase.id);
    const outcomes: Record<string, HostOutcome> = Object.fromEntries(specs.map((s) => [s.name, 'not-reached' as HostOutcome]));
    const failures = new Map<string, Error>();
    let afterAllError: PhaseError | undefined;
    const queue = [...specs];
    const width = phase.order === 'serial' ? 1 : Math.max(1, Math.min(options.concurrency, phase.concurrency?.(params, phaseCtx) ?? Infinity));
    const worker = async () => {
      for (let spec = queue.shift(); spec; spec = queue.shift()) {
        // A serial phase stops at its first failure: later hosts must not act on a broken predecessor.
        if (phase.order === 'serial' && failures.size > 0) return;
        if (options.signal?.aborted) return;
        try {
          outcomes[spec.name] = await visit({ spec, host: options.hostFor(spec.name) }, phase, params, phaseCtx, emit, options);
        } catch (error) {
          outcomes[spec.name] = 'failed';
          failures.set(spec.name, error as Error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, specs.length) }, worker));
    if (failures.size === 0 && phase.afterAll && !options.signal?.aborted) {
      try {
        await phase.afterAll(specs.map((spec) => ({ spec, host: options.hostFor(spec.name) })), phaseCtx, params, stageApplier(phaseCtx, options));
      } catch (error) {
        const each = error instanceof PhaseError ? error.failures : new Map([['cluster', error as Error]]);
        for (const [host, e] of each) {
          failures.set(host, e);
          if (host in outcomes) outcomes[host] = 'failed';
        }
        if (error instanceof PhaseError) afterAllError = error;
      }
    }
    options.onPhase?.(undefined);
    reports.push({ phase: phase.id, hosts: outcomes });
    emit({ type: 'phase-end', phase: phase.id, ok: failures.size === 0 });
    if (afterAllError) throw afterAllError;
    if (failures.size > 0) throw new PhaseError(phase.id, failures, { hint: 'fix the cause and run the same command again: finished work is detected and skipped' });
    options.signal?.throwIfAborted();
  }
  return reports;
}
