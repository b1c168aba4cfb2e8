// Test support for phases of the observe → plan shape: observe through read-only hosts (as the runner does), then
// plan; and steps as one line each, for table tests that compare plans.
import { ReadOnlyHost } from '../../src/hosts/read-only.ts';
import type { Host } from '../../src/hosts/host.ts';
import type { PhaseContext, Phase } from '../../src/phases/phase.ts';
import { describeStep, type Step } from '../../src/phases/step.ts';

/** What the phase sees on `host` and the steps it plans from that, exactly as the runner's first round. */
export async function observeAndPlan<P, O>(phase: Phase<P, O>, ctx: PhaseContext, host: Host, params: P = {} as P): Promise<{ seen: O; steps: Step[] }> {
  const spec = ctx.inventory.hosts.find((h) => h.name === host.name);
  if (!spec) throw new Error(`no inventory host ${host.name}`);
  const seen = await phase.observe({ spec, host: new ReadOnlyHost(host), admin: new ReadOnlyHost(ctx.admin) }, ctx, params);
  return { seen, steps: phase.plan(seen, { spec, ctx, params }) };
}

/** Each step as one line (step.ts's describeStep). */
export const lines = (steps: readonly Step[]): string[] => steps.map(describeStep);
