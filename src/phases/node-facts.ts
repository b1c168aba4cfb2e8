// A node's facts for the phases: gather.sh (src/facts, doctor's script too) read once per node per run, kept in the
// run's state, so each phase that needs them (repo paths, package manager, VIP interface) and preflight's doctor gate
// share one reading, whether or not preflight ran.
import { gatherFacts } from '../facts/gather.ts';
import { nodeFactsOf, type NodeFacts } from '../facts/node.ts';
import type { PhaseTarget } from './phase.ts';
import type { RunState } from './run-state.ts';

/** The node's facts from this run's state, read on first use. */
export async function nodeFacts(target: Pick<PhaseTarget, 'spec' | 'host'>, state: RunState, options: { packages?: boolean } = {}): Promise<NodeFacts> {
  const known = state.facts.get(target.spec.name);
  // With `packages`, a reading without the installed package list is read again, with it (once).
  if (known && (!options.packages || known.gathered.packages)) return known;
  const facts = nodeFactsOf(await gatherFacts(target.host, { packages: options.packages === true }), target.spec.address);
  state.facts.set(target.spec.name, facts);
  return facts;
}

/** Stores facts read elsewhere (tests, a caller that already has them). */
export function rememberNodeFacts(state: RunState, host: string, facts: NodeFacts): void {
  state.facts.set(host, facts);
}
