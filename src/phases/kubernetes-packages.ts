// kubernetes-packages: kubeadm, kubelet and kubectl of the lock's Kubernetes version from the bundle's repository
// on every node, held at that version (apt-mark hold on Debian; on EL the install pins the exact build), and
// kubelet enabled so it starts with the node (it crash-loops until kubeadm writes its config, as upstream's does).
import { requireLock } from './render-inputs.ts';
import { nodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import { installPackages } from './packages.ts';
import { checkBundleAgainstLock } from './bundle-manifest.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { kubeNodes } from './kube/cluster.ts';
import { KUBE_PACKAGES, kubePackageSpecs, kubeVersionQuery, wrongKubePackages } from './kube/package-versions.ts';

export const KUBE_PACKAGES_PHASE = 'kubernetes-packages';

async function look(target: PhaseTarget, ctx: PhaseContext) {
  const { host } = target;
  const family = pickFamily(target.spec.name, await nodeFacts(target, ctx.state));
  const version = requireLock(ctx).stack.kubernetes;
  const installed = await host.exec(kubeVersionQuery(family.id), { readOnly: true, allowFailure: true });
  const wrong = wrongKubePackages(family.id, version, installed.stdout);
  const held = family.id === 'debian'
    ? (await host.exec(['apt-mark', 'showhold'], { readOnly: true })).stdout.split('\n').map((l) => l.trim())
    : [...KUBE_PACKAGES];
  const enabled = await host.exec(['systemctl', 'is-enabled', 'kubelet'], { readOnly: true, allowFailure: true });
  return { family, version, wrong, unheld: KUBE_PACKAGES.filter((p) => !held.includes(p)), enabled: enabled.stdout.trim() === 'enabled' };
}

export const kubernetesPackagesPhase: Phase = {
  id: KUBE_PACKAGES_PHASE,
  title: 'kubeadm, kubelet and kubectl of the locked version, held',
  undo: 'reset-kubernetes-packages',
  check: (ctx) => checkBundleAgainstLock(ctx, 'kubernetes-packages'),
  targets: (ctx) => kubeNodes(ctx.inventory),
  async isDone(target, ctx) {
    const s = await look(target, ctx);
    return s.wrong.length === 0 && s.unheld.length === 0 && s.enabled;
  },
  async run(target, ctx) {
    const { host } = target;
    const s = await look(target, ctx);
    if (s.wrong.length > 0) await installPackages(host, s.family, kubePackageSpecs(s.family.id, s.version), KUBE_PACKAGES_PHASE);
    if (s.family.id === 'debian' && s.unheld.length > 0) await host.exec(['apt-mark', 'hold', ...KUBE_PACKAGES]);
    if (!s.enabled) await host.exec(['systemctl', 'enable', 'kubelet']);
  },
};
