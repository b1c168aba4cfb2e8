// preflight: reach every node and read the facts later phases need (os-release, kernel, machine, interfaces),
// refusing a node whose OS is not the one the lock was resolved for. Read-only. Then, once for the whole cluster,
// the gate (doctor's checks and probes, src/phases/doctor-gate.ts) may stop the install (see docs/install.md).
import { UserError } from '../errors.ts';
import { gatherNodeFacts, rememberNodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import type { NodeFacts } from './parse-node-facts.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';

/** True when the node runs the OS (id and major version) the lock was resolved for. */
export function matchesLockOs(facts: NodeFacts, lockOs: { id: string; version: string }): boolean {
  const major = (v: string) => v.split('.')[0];
  return facts.os.id === lockOs.id && major(facts.os.versionId) === major(lockOs.version);
}

/** The preflight phase; `gate` runs once over every node after each node's facts were read (doctorGate in install). */
export function preflightPhase(gate?: (targets: readonly PhaseTarget[], ctx: PhaseContext) => Promise<void>): Phase {
  return {
    id: 'preflight',
    title: 'reach every node and read its facts',
    targets: (ctx) => ctx.inventory.hosts,
    // Always runs: it only reads, and later phases rely on fresh facts.
    isDone: async () => false,
    async run(target, ctx) {
      const facts = await gatherNodeFacts(target.host, target.spec.address);
      pickFamily(target.spec.name, facts);
      const os = ctx.lock?.stack.os;
      if (os && !matchesLockOs(facts, os))
        throw new UserError(`${target.spec.name} runs ${facts.os.prettyName}, but the lock was resolved for ${os.id} ${os.version}`, {
          hint: 'resolve and bundle for the OS the nodes run (ferry resolve --os ...)',
        });
      rememberNodeFacts(ctx.state, target.spec.name, facts);
    },
    ...(gate ? { afterAll: (targets: readonly PhaseTarget[], ctx: PhaseContext) => gate(targets, ctx) } : {}),
  };
}
