// An already-installed container runtime must be new enough for the Kubernetes version (containerd RELEASES.md).
import type { Facts } from '../facts/types.ts';
import { compareLoose, kubeMinor } from './version.ts';
import { hostFinding, type Finding, type NodeCheck, type NodeContext } from './types.ts';

/** Minimum containerd per Kubernetes minor and containerd branch (containerd/containerd RELEASES.md, Kubernetes support table). */
const CONTAINERD_MIN: Record<number, string[]> = {
  29: ['1.7.11', '1.6.27'],
  30: ['2.1.0', '2.0.0', '1.7.13', '1.6.28'],
  31: ['2.1.0', '2.0.0', '1.7.20', '1.6.34'],
  32: ['2.1.0', '2.0.1', '1.7.24', '1.6.36'],
  33: ['2.1.0', '2.0.4', '1.7.24', '1.6.36'],
  34: ['2.1.3', '2.0.6', '1.7.28', '1.6.39'],
  35: ['2.2.0', '2.1.5', '1.7.28'],
  36: ['2.3.0', '2.2.0'],
};

/** Whether `version` meets the minimum of its own branch for Kubernetes 1.`minor`; undefined when the table has no row. */
export function containerdSupports(version: string, minor: number): boolean | undefined {
  const mins = CONTAINERD_MIN[minor];
  if (!mins) return undefined;
  const branch = version.split('.').slice(0, 2).join('.');
  const min = mins.find((m) => m.startsWith(`${branch}.`));
  return min !== undefined && compareLoose(version, min) >= 0;
}

function runtime(facts: Facts, ctx: NodeContext): Finding[] {
  const id = 'container-runtime';
  const k8s = ctx.plan.kubernetesVersion;
  const version = facts.containerd?.version;
  const out: Finding[] = [];
  if (facts.services.docker === 'active')
    out.push(hostFinding(id, facts.host, 'warn', 'Docker is running: kubelet talks to containerd directly (dockershim is gone since 1.24), and two daemons compete for images and ports', 'systemctl disable --now docker docker.socket, or keep it and make sure it does not bind the cluster ports'));
  if (!version) {
    out.push(hostFinding(id, facts.host, 'pass', facts.crio ? 'CRI-O installed (its minor must equal Kubernetes’)' : 'no containerd installed yet: ferry install brings the one from the lock'));
    return out;
  }
  const ok = containerdSupports(version, kubeMinor(k8s));
  if (ok === false)
    out.push(hostFinding(id, facts.host, 'fail', `containerd ${version} is below the minimum for Kubernetes ${k8s} (containerd RELEASES.md)`, 'remove it and let ferry install the containerd from the bundle (dnf remove containerd.io / apt-get remove containerd)'));
  else out.push(hostFinding(id, facts.host, ok ? 'pass' : 'warn', ok ? `containerd ${version} supports Kubernetes ${k8s}` : `containerd ${version}: no support row for Kubernetes ${k8s}`, 'check containerd RELEASES.md for this Kubernetes version'));
  return out;
}

/** The container-runtime check. */
export const runtimeCheck: NodeCheck = { id: 'container-runtime', title: 'installed container runtime fits the Kubernetes version', run: runtime };
