// Which install phases the demo can run on lab nodes (systemd-nspawn: real systemd, sshd, nftables, containerd,
// HAProxy, keepalived; no kubelet, no kernel modules, no GPU) and which it skips, with the reason printed. Every
// phase of the playbook must be classified: a new phase nobody classified fails the demo loudly instead of
// being tried (or skipped) silently.
import { UserError } from '../errors.ts';

const NO_KUBELET = 'kubeadm and kubelet cannot run in a systemd-nspawn lab node (no kernel modules, shared kernel)';
const NO_GPU = 'the lab has no NVIDIA GPU and cannot load kernel modules';
/** Why the demo's replica serves no kubeadm, kubelet or kubectl (the tests' strict stand-ins never ship in ferry). */
export const NO_KUBE_PACKAGES = 'kubeadm, kubelet and kubectl cannot be had offline on this machine';

/** Phases proven on lab nodes (test/install/install.lab.test.ts runs them; firewalld also with firewalld running,
 * test/phases/firewalld.lab.test.ts; on the demo's nodes firewalld is not running, so it plans nothing). */
export const LAB_RUNS: readonly string[] = ['preflight', 'copy-bundle', 'local-repo', 'os-prepare', 'firewalld', 'container-runtime', 'registry', 'registry-mirrors', 'load-balancer'];

/** Phases the lab cannot run, by id, with why (ids of issue 5's and the GPU work's install phases). */
export const LAB_CANNOT_RUN: Readonly<Record<string, string>> = {
  'kubernetes-packages': `${NO_KUBE_PACKAGES}, so the demo bundle carries none`,
  'kubeadm-init': NO_KUBELET,
  'join-control-planes': NO_KUBELET,
  'join-workers': NO_KUBELET,
  cni: `${NO_KUBELET}, so there is no API server to apply the CNI to`,
  verify: `${NO_KUBELET}, so there is no cluster to verify`,
  'gpu-driver': NO_GPU,
  'gpu-addons': `${NO_GPU}; and no API server`,
};

export interface LabPhasePlan {
  run: string[];
  skip: { id: string; reason: string }[];
}

/** Splits a playbook's phase ids into those the lab runs and those it skips; throws on an unclassified id. */
export function labPhasePlan(playbookIds: readonly string[], source: string): LabPhasePlan {
  const unknown = playbookIds.filter((id) => !LAB_RUNS.includes(id) && LAB_CANNOT_RUN[id] === undefined);
  if (unknown.length > 0)
    throw new UserError(`ferry demo does not know whether phase(s) ${unknown.join(', ')} of ${source} can run on lab nodes`, {
      hint: 'add each id to LAB_RUNS or LAB_CANNOT_RUN (with the reason) in src/demo/lab-phases.ts',
    });
  return {
    run: playbookIds.filter((id) => LAB_RUNS.includes(id)),
    skip: playbookIds.filter((id) => LAB_CANNOT_RUN[id] !== undefined).map((id) => ({ id, reason: LAB_CANNOT_RUN[id]! })),
  };
}
