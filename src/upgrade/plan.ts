// The upgrade plan (pure): from the running cluster's versions, the new lock and what the new bundle carries, which
// components change, in which order the nodes go, and the refusals that stop an upgrade before anything changes.
//
// Order and rules are kubeadm's and Kubernetes' own:
// - kubeadm's upgrade page (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/): one
//   minor at a time ("Skipping MINOR versions when upgrading is unsupported"); `kubeadm upgrade apply` on the first
//   control plane, `kubeadm upgrade node` on the other control planes, then on workers; each node drained before its
//   kubelet is upgraded and restarted, then uncordoned.
// - kubeadm's EnforceVersionPolicies (cmd/kubeadm/app/phases/upgrade/policy.go): kubelets more than one minor behind
//   the target refuse the upgrade.
// - The version skew policy (https://kubernetes.io/releases/version-skew-policy/#kubelet): a kubelet is never newer
//   than kube-apiserver.
// ferry adds: no downgrades of any component, and a bundle that lacks what the target needs is refused up front.
import type { Role } from '../config/inventory.ts';
import type { Lock } from '../config/lock.ts';
import { lockMismatches, notInstallable, type BundleContents } from '../bundle/lock-match.ts';
import { kubeMinor } from '../checks/version.ts';

/** Numeric comparison of dotted versions (v1.33.1, 2.0.8, 580.95.05: NVIDIA's leading zeros defeat semver); -1, 0, 1. */
export function compareVersion(a: string, b: string): number {
  const parts = (s: string) => (s.replace(/^v/, '').split(/[-+~]/)[0] ?? '').split('.').map(Number);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** What one node runs now, as read from it (node status, package queries, nvidia-smi). */
export interface RunningNode {
  name: string;
  roles: readonly Role[];
  /** kubelet version from the Node object, e.g. v1.33.1. */
  kubelet: string;
  kubeadm?: string;
  containerd?: string;
  runc?: string;
  nvidiaDriver?: string;
  /** Control planes: the version of their kube-apiserver static pod. */
  apiServer?: string;
}

export interface RunningCluster {
  /** kubernetesVersion of the cluster (kubeadm's ClusterConfiguration), e.g. v1.33.1. */
  kubernetes: string;
  nodes: readonly RunningNode[];
}

export interface UpgradeInput {
  running: RunningCluster;
  /** The new lock (ferry.lock.yaml of the new bundle). */
  lock: Lock;
  /** What the new bundle carries (bundleContents of its manifest; a delta's manifest lists the whole bundle). */
  bundle: BundleContents;
  /** Workers drained at once (default 1). */
  maxUnavailableWorkers?: number;
  /** Whether ferry may reboot a node itself (else it stops and asks the operator). */
  allowReboot?: boolean;
}

export type Component = 'kubernetes' | 'containerd' | 'runc' | 'nvidia-driver';

export interface ComponentChange {
  component: Component;
  from: string;
  to: string;
  nodes: string[];
}

export type NodeAction =
  | 'upgrade-kubeadm-package'
  | 'kubeadm-upgrade-apply'
  | 'kubeadm-upgrade-node'
  | 'drain'
  | 'upgrade-container-runtime'
  | 'upgrade-nvidia-driver'
  | 'upgrade-kubelet-package'
  | 'restart-kubelet'
  | 'reboot'
  | 'await-operator-reboot'
  | 'uncordon';

export interface NodeStep {
  host: string;
  role: 'first-control-plane' | 'control-plane' | 'worker';
  actions: NodeAction[];
}

export type UpgradeStage =
  | { kind: 'etcd-snapshot'; host: string }
  | { kind: 'seed-registry' }
  | { kind: 'nodes'; steps: NodeStep[] };

export interface Refusal {
  id: 'skips-minor' | 'downgrade' | 'kubelet-newer-than-api-server' | 'kubelet-too-old' | 'bundle-lacks' | 'no-control-plane' | 'not-installable';
  message: string;
  fix: string;
}

export type UpgradePlan =
  | { ok: true; target: string; changes: ComponentChange[]; stages: UpgradeStage[] }
  | { ok: false; refusals: Refusal[] };

const v = (version: string) => (version.startsWith('v') ? version : `v${version}`);
const bare = (version: string) => version.replace(/^v/, '');

/** Each component whose version differs on some node, with the nodes where it changes. */
function componentChanges(running: RunningCluster, lock: Lock): ComponentChange[] {
  const stack = lock.stack;
  const wanted: [Component, string | undefined, (n: RunningNode) => string | undefined, (n: RunningNode) => boolean][] = [
    ['kubernetes', stack.kubernetes, (n) => n.kubelet, () => true],
    ['containerd', stack.cri.version, (n) => n.containerd, () => true],
    ['runc', stack.runc, (n) => n.runc, () => true],
    ['nvidia-driver', stack.nvidiaDriver?.version, (n) => n.nvidiaDriver, (n) => n.roles.includes('gpu')],
  ];
  const out: ComponentChange[] = [];
  for (const [component, to, read, applies] of wanted) {
    if (!to) continue;
    const nodes = running.nodes.filter((n) => applies(n) && read(n) !== undefined && compareVersion(read(n)!, to) !== 0);
    const froms = [...new Set(nodes.map((n) => bare(read(n)!)))].sort(compareVersion);
    if (component === 'kubernetes' && compareVersion(running.kubernetes, to) !== 0 && !froms.includes(bare(running.kubernetes))) froms.unshift(bare(running.kubernetes));
    if (nodes.length > 0 || (component === 'kubernetes' && compareVersion(running.kubernetes, to) !== 0))
      out.push({ component, from: froms.join(', '), to, nodes: nodes.map((n) => n.name) });
  }
  return out;
}

/** Everything that stops the upgrade before any node changes, each with what to do. */
export function upgradeRefusals(input: UpgradeInput): Refusal[] {
  const { running, lock } = input;
  const out: Refusal[] = [];
  const target = lock.stack.kubernetes;
  const cluster = bare(running.kubernetes);
  const minorNow = kubeMinor(cluster);
  const minorTarget = kubeMinor(target);
  if (!running.nodes.some((n) => n.roles.includes('control-plane')))
    out.push({ id: 'no-control-plane', message: 'the inventory names no control plane', fix: 'give the control planes role control-plane in cluster.yaml' });
  if (minorTarget > minorNow + 1)
    out.push({
      id: 'skips-minor',
      message: `the lock targets Kubernetes ${target} but the cluster runs ${cluster}: kubeadm upgrades one minor at a time`,
      fix: `upgrade to 1.${minorNow + 1} first: ferry resolve --k8s 1.${minorNow + 1}, bundle build --since, ferry upgrade; then to 1.${minorTarget}`,
    });
  if (compareVersion(target, cluster) < 0)
    out.push({ id: 'downgrade', message: `the lock's Kubernetes ${target} is older than the cluster's ${cluster}`, fix: 'use the lock of the running version or a newer one; ferry does not downgrade' });
  for (const n of running.nodes) {
    for (const [component, have, want] of [
      ['containerd', n.containerd, lock.stack.cri.version],
      ['runc', n.runc, lock.stack.runc],
      ['NVIDIA driver', n.roles.includes('gpu') ? n.nvidiaDriver : undefined, lock.stack.nvidiaDriver?.version],
    ] as const) {
      if (have && want && compareVersion(want, have) < 0)
        out.push({ id: 'downgrade', message: `${n.name} runs ${component} ${have}; the lock's ${want} is older`, fix: 'use a lock whose versions are at least the running ones; ferry does not downgrade' });
    }
    if (compareVersion(n.kubelet, cluster) > 0 && compareVersion(n.kubelet, target) !== 0)
      out.push({
        id: 'kubelet-newer-than-api-server',
        message: `kubelet ${n.kubelet} on ${n.name} is newer than the API server ${v(cluster)} (version skew policy)`,
        fix: `reinstall kubelet ${v(cluster)} on ${n.name} from the running bundle, or upgrade to ${n.kubelet}'s version`,
      });
    if (minorTarget > kubeMinor(n.kubelet) + 1)
      out.push({
        id: 'kubelet-too-old',
        message: `kubelet ${n.kubelet} on ${n.name} is more than one minor behind ${v(target)} (kubeadm refuses: policy.go)`,
        fix: `bring ${n.name}'s kubelet to 1.${minorTarget - 1} first (ferry upgrade with the bundle of the running minor)`,
      });
  }
  for (const m of lockMismatches(lock, input.bundle))
    out.push({ id: 'bundle-lacks', message: `the bundle has ${m.found} for ${m.component}; the lock wants ${m.wants}`, fix: m.fix });
  const notHere = notInstallable(lock.stack);
  if (notHere) out.push({ id: 'not-installable', message: notHere, fix: 'resolve a containerd stack' });
  return out;
}

/** The actions of one node for the changes that touch it. */
function nodeActions(node: RunningNode, changes: ComponentChange[], role: NodeStep['role'], allowReboot: boolean): NodeAction[] {
  const touches = (c: Component) => changes.some((x) => x.component === c && x.nodes.includes(node.name));
  const kube = touches('kubernetes') || role === 'first-control-plane';
  const runtime = touches('containerd') || touches('runc');
  const driver = touches('nvidia-driver');
  const out: NodeAction[] = [];
  if (kube) out.push('upgrade-kubeadm-package', role === 'first-control-plane' ? 'kubeadm-upgrade-apply' : 'kubeadm-upgrade-node');
  if (!(kube || runtime || driver)) return out;
  out.push('drain');
  if (runtime) out.push('upgrade-container-runtime');
  if (driver) out.push('upgrade-nvidia-driver');
  if (kube) out.push('upgrade-kubelet-package');
  if (driver) out.push(allowReboot ? 'reboot' : 'await-operator-reboot');
  else if (kube || runtime) out.push('restart-kubelet');
  out.push('uncordon');
  return out;
}

/** The whole plan, or every refusal. Control planes one at a time in inventory order, then workers in batches. */
export function planUpgrade(input: UpgradeInput): UpgradePlan {
  const refusals = upgradeRefusals(input);
  if (refusals.length > 0) return { ok: false, refusals };
  const { running, lock } = input;
  const changes = componentChanges(running, lock);
  const target = v(lock.stack.kubernetes);
  if (changes.length === 0) return { ok: true, target, changes, stages: [] };
  const cps = running.nodes.filter((n) => n.roles.includes('control-plane'));
  const workers = running.nodes.filter((n) => !n.roles.includes('control-plane'));
  const applyDone = compareVersion(running.kubernetes, lock.stack.kubernetes) === 0;
  const first = applyDone ? undefined : (cps.find((n) => compareVersion(n.apiServer ?? n.kubelet, lock.stack.kubernetes) !== 0) ?? cps[0]);
  const allowReboot = input.allowReboot ?? false;
  const step = (n: RunningNode, role: NodeStep['role']): NodeStep => ({ host: n.name, role, actions: nodeActions(n, changes, role, allowReboot) });
  const stages: UpgradeStage[] = [{ kind: 'etcd-snapshot', host: (first ?? cps[0]!).name }, { kind: 'seed-registry' }];
  const cpSteps = [...(first ? [step(first, 'first-control-plane')] : []), ...cps.filter((n) => n !== first).map((n) => step(n, 'control-plane'))];
  for (const s of cpSteps.filter((s) => s.actions.length > 0)) stages.push({ kind: 'nodes', steps: [s] });
  const batch = Math.max(1, input.maxUnavailableWorkers ?? 1);
  const workerSteps = workers.map((n) => step(n, 'worker')).filter((s) => s.actions.length > 0);
  for (let i = 0; i < workerSteps.length; i += batch) stages.push({ kind: 'nodes', steps: workerSteps.slice(i, i + batch) });
  return { ok: true, target, changes, stages };
}
