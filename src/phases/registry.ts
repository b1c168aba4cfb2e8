// Every phase ferry knows, by id: the registry planPlaybook resolves playbooks against.
import { containerRuntimePhase } from './container-runtime.ts';
import { copyBundlePhase } from './copy-bundle.ts';
import { gpuAddonsPhase } from './gpu-addons.ts';
import { gpuDriverPhase } from './gpu-driver.ts';
import { loadBalancerPhase } from './load-balancer.ts';
import { localRepoPhase } from './local-repo.ts';
import { osPreparePhase } from './os-prepare.ts';
import type { AnyPhase } from './phase.ts';
import { preflightPhase } from './preflight.ts';
import { resetPhases } from './reset.ts';
import { resetGpuAddonsPhase, resetGpuDriverPhase } from './reset-gpu.ts';

/** The phase registry (a new map per call: phases hold no state, but callers may add their own). */
export function phaseRegistry(): Map<string, AnyPhase> {
  const phases: AnyPhase[] = [preflightPhase(), copyBundlePhase, localRepoPhase, osPreparePhase, containerRuntimePhase, loadBalancerPhase, ...resetPhases];
  phases.push(gpuDriverPhase, gpuAddonsPhase, resetGpuDriverPhase, resetGpuAddonsPhase);
  return new Map(phases.map((p) => [p.id, p]));
}
