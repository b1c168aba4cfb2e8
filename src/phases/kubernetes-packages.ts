// kubernetes-packages: kubeadm, kubelet and kubectl of the lock's Kubernetes version from the bundle's repository
// on every node, held at that version (apt-mark hold on Debian; on EL ferry's repo file excludes them from every dnf
// command but ferry's own installs, local-repo's file), and kubelet enabled so it starts with the node (it crash-loops until kubeadm writes its config, as upstream's does).
import { requireLock } from './render-inputs.ts';
import { nodeFacts } from './node-facts.ts';
import type { OsFamily } from './os/family.ts';
import { pickFamily } from './os/pick.ts';
import { installStep } from './packages.ts';
import { checkBundleAgainstLock } from './bundle-manifest.ts';
import type { Phase } from './phase.ts';
import { kubeNodes } from './kube/cluster.ts';
import { KUBE_PACKAGES, kubePackageSpecs, kubeVersionQuery, wrongKubePackages } from './kube/package-versions.ts';
import { exec, type Step } from './step.ts';

export const KUBE_PACKAGES_PHASE = 'kubernetes-packages';

/** What kubernetes-packages sees on a node. */
export interface KubePackagesSeen {
  family: OsFamily;
  /** The lock's Kubernetes version. */
  version: string;
  /** Those of kubeadm, kubelet and kubectl not installed at exactly that version. */
  wrong: string[];
  /** Those not held (Debian's apt-mark showhold; on EL the repo file's exclude= holds them, so none). */
  unheld: string[];
  /** `systemctl is-enabled kubelet` said enabled. */
  kubeletEnabled: boolean;
}

/** Install at the pinned version where one is off, hold them (Debian), enable kubelet; nothing when all three hold. */
export function planKubePackages(s: KubePackagesSeen): Step[] {
  const steps: Step[] = [];
  if (s.wrong.length > 0) steps.push(installStep(s.family, kubePackageSpecs(s.family.id, s.version), KUBE_PACKAGES_PHASE));
  if (s.family.id === 'debian' && s.unheld.length > 0) steps.push(exec(['apt-mark', 'hold', ...KUBE_PACKAGES]));
  if (!s.kubeletEnabled) steps.push(exec(['systemctl', 'enable', 'kubelet']));
  return steps;
}

export const kubernetesPackagesPhase: Phase<Record<string, unknown>, KubePackagesSeen> = {
  id: KUBE_PACKAGES_PHASE,
  title: 'kubeadm, kubelet and kubectl of the locked version, held',
  undo: 'reset-kubernetes-packages',
  check: (ctx) => checkBundleAgainstLock(ctx, 'kubernetes-packages'),
  targets: (ctx) => kubeNodes(ctx.inventory),
  async observe(target, ctx) {
    const { host } = target;
    const family = pickFamily(target.spec.name, await nodeFacts(target, ctx.state));
    const version = requireLock(ctx).stack.kubernetes;
    const installed = await host.exec(kubeVersionQuery(family.id), { allowFailure: true });
    const held = family.id === 'debian' ? (await host.exec(['apt-mark', 'showhold'])).stdout.split('\n').map((l) => l.trim()) : [...KUBE_PACKAGES];
    const enabled = await host.exec(['systemctl', 'is-enabled', 'kubelet'], { allowFailure: true });
    return {
      family, version, wrong: wrongKubePackages(family.id, version, installed.stdout),
      unheld: KUBE_PACKAGES.filter((p) => !held.includes(p)), kubeletEnabled: enabled.stdout.trim() === 'enabled',
    };
  },
  plan: (seen) => planKubePackages(seen),
};
