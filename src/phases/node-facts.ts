// Gathers a node's facts with one read-only command and keeps them in the run's state, so each phase that needs
// them (repo paths, package manager, VIP interface) asks once per node, whether or not preflight ran.
import type { Host } from '../hosts/host.ts';
import { sh } from '../hosts/shell.ts';
import { parseNodeFacts, type NodeFacts } from './parse-node-facts.ts';
import type { PhaseTarget } from './phase.ts';
import type { RunState } from './run-state.ts';

/** The facts script: one round trip, sections marked for parseNodeFacts. */
export const FACTS_SCRIPT = sh`echo ==ferry:os-release==; cat /etc/os-release; echo ==ferry:kernel==; uname -r; echo ==ferry:machine==; uname -m; echo ==ferry:addresses==; ip -o -4 addr show; echo ==ferry:ssh-client==; echo "$SSH_CLIENT"`;

/** Reads the facts from the host (always, read-only). */
export async function gatherNodeFacts(host: Host, address: string): Promise<NodeFacts> {
  const r = await host.exec(FACTS_SCRIPT, { readOnly: true });
  return parseNodeFacts(host.name, r.stdout, address);
}


/** The node's facts from this run's state, gathered on first use. */
export async function nodeFacts(target: Pick<PhaseTarget, 'spec' | 'host'>, state: RunState): Promise<NodeFacts> {
  const known = state.facts.get(target.spec.name);
  if (known) return known;
  const facts = await gatherNodeFacts(target.host, target.spec.address);
  state.facts.set(target.spec.name, facts);
  return facts;
}

/** Stores freshly gathered facts (preflight always re-reads). */
export function rememberNodeFacts(state: RunState, host: string, facts: NodeFacts): void {
  state.facts.set(host, facts);
}
