// Every phase ferry knows, by id: the registry planPlaybook resolves playbooks against. Not an order: the playbook is
// the only order, and reset's is derived from it (undo.ts).
import { cniPhase } from './cni.ts';
import { containerRuntimePhase } from './container-runtime.ts';
import { copyBundlePhase } from './copy-bundle.ts';
import { doctorGate } from './doctor-gate.ts';
import { firewalldPhase, resetFirewalldPhase } from './firewalld.ts';
import { joinControlPlanesPhase } from './join-control-planes.ts';
import { joinWorkersPhase } from './join-workers.ts';
import { kubeadmInitPhase } from './kubeadm-init.ts';
import { kubernetesPackagesPhase } from './kubernetes-packages.ts';
import { gpuAddonsPhase } from './gpu-addons.ts';
import { gpuDriverPhase } from './gpu-driver.ts';
import { loadBalancerPhase } from './load-balancer.ts';
import { localRegistryPhase } from './local-registry.ts';
import { localRepoPhase } from './local-repo.ts';
import { osPreparePhase } from './os-prepare.ts';
import type { AnyPhase } from './phase.ts';
import { preflightPhase } from './preflight.ts';
import { registryMirrorsPhase } from './registry-mirrors.ts';
import { kubeResetPhases } from './reset-kubeadm.ts';
import { resetPhases } from './reset.ts';
import { resetGpuAddonsPhase, resetGpuDriverPhase } from './reset-gpu.ts';
import { verifyPhase } from './verify.ts';
import { certsRenewPhase } from './certs-renew.ts';
import { etcdSnapshotPhase, upgradeGatePhase, upgradeRegistryPhase } from './upgrade/gate.ts';
import { upgradeControlPlanesPhase, upgradeWorkersPhase } from './upgrade/nodes.ts';

/** The phase registry (a new map per call: phases hold no state, but callers may add their own); reset runs no doctor gate. */
export function phaseRegistry(options: { doctorGate?: boolean } = {}): Map<string, AnyPhase> {
  const phases: AnyPhase[] = [
    preflightPhase(options.doctorGate === false ? undefined : doctorGate), copyBundlePhase, localRepoPhase, osPreparePhase, containerRuntimePhase, gpuDriverPhase, localRegistryPhase, registryMirrorsPhase,
    loadBalancerPhase, kubernetesPackagesPhase, kubeadmInitPhase, joinControlPlanesPhase, joinWorkersPhase, cniPhase, gpuAddonsPhase, verifyPhase,
    resetGpuAddonsPhase, resetGpuDriverPhase, ...kubeResetPhases, ...resetPhases,
    firewalldPhase, resetFirewalldPhase,
    upgradeGatePhase, etcdSnapshotPhase, upgradeRegistryPhase, upgradeControlPlanesPhase, upgradeWorkersPhase, certsRenewPhase,
  ];
  return new Map(phases.map((p) => [p.id, p]));
}
