// Reset, derived: the install playbook is the only order. Each install phase names the reset phase that undoes it
// (or says why there is none); `ferry reset` runs those reset phases in reverse install order, each once, at the
// place of the last install phase it undoes (reset-kubeadm undoes kubeadm-init, the joins and cni, so it runs where
// cni's undo would). Phases whose undo says `first` (preflight) run first in reset too.
import { InternalError } from '../errors.ts';
import type { AnyPhase } from './phase.ts';

export interface PlannedPhase {
  phase: AnyPhase;
  params: unknown;
}

/** The reset phase ids for these install phase ids, in the order reset runs them. */
export function resetOrder(install: readonly Pick<AnyPhase, 'id' | 'undo'>[]): string[] {
  const ids: string[] = [];
  const add = (id: string) => {
    if (!ids.includes(id)) ids.push(id);
  };
  for (const phase of install) if (typeof phase.undo === 'object' && phase.undo.first) add(phase.id);
  for (const phase of [...install].reverse()) if (typeof phase.undo === 'string') add(phase.undo);
  return ids;
}

/**
 * The reset plan of an install plan (already checked by planPlaybook, which refuses an unknown undo id): the undo
 * phases from the registry, without parameters; a phase kept `first` keeps its install parameters.
 */
export function resetPlan(install: readonly PlannedPhase[], registry: ReadonlyMap<string, AnyPhase>): PlannedPhase[] {
  const params = new Map(install.map((p) => [p.phase.id, p.params]));
  return resetOrder(install.map((p) => p.phase)).map((id) => {
    const phase = registry.get(id);
    if (!phase) throw new InternalError(`reset: no phase "${id}" in the registry (planPlaybook checks undo ids)`);
    return { phase, params: params.get(id) ?? {} };
  });
}
