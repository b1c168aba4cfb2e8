// reset-kubeadm and reset-kubernetes-packages: undo kubeadm-init, the joins and cni (`kubeadm reset -f` on every
// node, workers first, then the CNI's leftovers and ferry's kubeadm/CNI files), then the Kubernetes packages
// (unheld first: apt refuses to remove a held package).
import { sh } from '../hosts/shell.ts';
import { KUBEADM_CONFIG_PATH } from '../render/kubeadm.ts';
import { CNI_CONFIG_PATH, CNI_STAMP_PATH } from './cni.ts';
import { kubeNodes, MANIFESTS_DIR } from './kube/cluster.ts';
import { KUBE_PACKAGES } from './kube/package-versions.ts';
import { KUBE_PACKAGES_PHASE } from './kubernetes-packages.ts';
import { resetPhase } from './reset.ts';
import { exec } from './step.ts';

/** What kubeadm, the kubelet and the CNI leave on a node. */
export const KUBEADM_LEFTOVERS = [
  `${MANIFESTS_DIR}/kube-apiserver.yaml`, '/etc/kubernetes/pki', '/etc/kubernetes/admin.conf', '/etc/kubernetes/kubelet.conf',
  '/etc/kubernetes/super-admin.conf', '/etc/kubernetes/controller-manager.conf', '/etc/kubernetes/scheduler.conf',
  '/var/lib/kubelet/config.yaml', '/var/lib/etcd', '/etc/cni/net.d/10-calico.conflist', '/etc/cni/net.d/calico-kubeconfig',
  '/var/lib/calico', '/var/run/calico', KUBEADM_CONFIG_PATH, CNI_CONFIG_PATH, CNI_STAMP_PATH,
] as const;

const resetKubeadm = resetPhase({
  id: 'reset-kubeadm',
  title: 'kubeadm reset on every node (workers first), CNI leftovers removed',
  // Workers leave before the control planes whose API they would report their removal to.
  targets: (ctx) => [...kubeNodes(ctx.inventory)].sort((a, b) => Number(a.roles.includes('control-plane')) - Number(b.roles.includes('control-plane'))),
  paths: KUBEADM_LEFTOVERS,
  leftover: sh`ls -A ${MANIFESTS_DIR} 2>/dev/null | sed 's/^/manifest: /'`,
  before: () => [exec(sh`if command -v kubeadm >/dev/null; then kubeadm reset -f; fi`, { timeoutMs: 300_000 })],
  after: () => [exec(sh`if test -d ${MANIFESTS_DIR}; then find ${MANIFESTS_DIR} -mindepth 1 -delete; fi`)],
});

const resetKubernetesPackages = resetPhase({
  id: 'reset-kubernetes-packages',
  title: 'remove kubeadm, kubelet and kubectl',
  targets: (ctx) => kubeNodes(ctx.inventory),
  units: ['kubelet'],
  packagesOf: KUBE_PACKAGES_PHASE,
  paths: [],
  dirs: [MANIFESTS_DIR, '/etc/kubernetes', '/var/lib/kubelet'],
  before: (seen) => (seen.family.id === 'debian' ? [exec(sh`apt-mark unhold ${[...KUBE_PACKAGES]} >/dev/null 2>&1 || true`)] : []),
});

export const kubeResetPhases = [resetKubeadm, resetKubernetesPackages];
