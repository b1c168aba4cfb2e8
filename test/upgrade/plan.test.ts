// The upgrade plan: which components change, the node order (first control plane `kubeadm upgrade apply`, the other
// control planes `kubeadm upgrade node`, workers in batches, GPU nodes drained and rebooted for a new driver), and the
// refusals before any change. The lock is real `ferry resolve` output (test/bundle/fixtures/lock-rocky9-h100.yaml,
// Kubernetes 1.33.13, containerd 2.0.8, runc 1.3.5, driver 580.126.18); running versions are what nodes report.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { BundleContents } from '../../src/bundle/lock-match.ts';
import { Lock } from '../../src/config/lock.ts';
import { compareVersion, planUpgrade, type RunningCluster, type RunningNode, type UpgradeInput } from '../../src/upgrade/plan.ts';

const lock = Lock.parse(parse(readFileSync(join(import.meta.dirname, '..', 'bundle', 'fixtures', 'lock-rocky9-h100.yaml'), 'utf8')));

/** A bundle that carries exactly what the lock asks (package versions as pkgs.k8s.io, Docker and NVIDIA write them). */
const bundle: BundleContents = {
  packages: [
    { name: 'kubeadm', version: '1.33.13-150500.1.1' },
    { name: 'kubelet', version: '1.33.13-150500.1.1' },
    { name: 'kubectl', version: '1.33.13-150500.1.1' },
    { name: 'containerd.io', version: '2.0.8-1.el9' },
    { name: 'nvidia-open', version: '3:580.126.18-1.el9' },
  ],
  files: [{ component: 'registry', name: 'registry' }],
  images: lock.images.map((i) => i.ref),
};

const node = (name: string, roles: RunningNode['roles'], over: Partial<RunningNode> = {}): RunningNode => ({
  name, roles, kubelet: 'v1.32.9', kubeadm: '1.32.9', containerd: '2.0.8', runc: '1.3.5', ...(roles.includes('gpu') ? { nvidiaDriver: '580.126.18' } : {}),
  ...(roles.includes('control-plane') ? { apiServer: 'v1.32.9' } : {}), ...over,
});

const cluster = (nodes: RunningNode[], kubernetes = 'v1.32.9'): RunningCluster => ({ kubernetes, nodes });
const site = () => [node('cp1', ['control-plane']), node('cp2', ['control-plane']), node('cp3', ['control-plane']), node('w1', ['worker']), node('w2', ['worker']), node('gpu1', ['worker', 'gpu']), node('gpu2', ['worker', 'gpu'])];
const input = (running: RunningCluster, over: Partial<UpgradeInput> = {}): UpgradeInput => ({ running, lock, bundle, ...over });

describe('planUpgrade: order', () => {
  it('applies on the first control plane, upgrades the others with upgrade node, then workers one at a time', () => {
    const plan = planUpgrade(input(cluster(site())));
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.target).toBe('v1.33.13');
    expect(plan.changes).toEqual([{ component: 'kubernetes', from: '1.32.9', to: '1.33.13', nodes: ['cp1', 'cp2', 'cp3', 'w1', 'w2', 'gpu1', 'gpu2'] }]);
    expect(plan.stages.slice(0, 2)).toEqual([{ kind: 'etcd-snapshot', host: 'cp1' }, { kind: 'seed-registry' }]);
    const nodes = plan.stages.flatMap((s) => (s.kind === 'nodes' ? [s.steps.map((x) => `${x.host}:${x.role}`)] : []));
    expect(nodes).toEqual([['cp1:first-control-plane'], ['cp2:control-plane'], ['cp3:control-plane'], ['w1:worker'], ['w2:worker'], ['gpu1:worker'], ['gpu2:worker']]);
    const first = plan.stages[2]!;
    expect(first.kind === 'nodes' && first.steps[0]!.actions).toEqual(['upgrade-kubeadm-package', 'kubeadm-upgrade-apply', 'drain', 'upgrade-kubelet-package', 'restart-kubelet', 'uncordon']);
    const worker = plan.stages[5]!;
    expect(worker.kind === 'nodes' && worker.steps[0]!.actions).toEqual(['upgrade-kubeadm-package', 'kubeadm-upgrade-node', 'drain', 'upgrade-kubelet-package', 'restart-kubelet', 'uncordon']);
  });

  it('drains workers in batches of maxUnavailableWorkers', () => {
    const plan = planUpgrade(input(cluster(site()), { maxUnavailableWorkers: 3 }));
    expect(plan.ok && plan.stages.flatMap((s) => (s.kind === 'nodes' ? [s.steps.map((x) => x.host)] : []))).toEqual([['cp1'], ['cp2'], ['cp3'], ['w1', 'w2', 'gpu1'], ['gpu2']]);
  });

  it.each([
    ['demands an operator reboot of a GPU node whose driver changes', false, 'await-operator-reboot'],
    ['reboots it itself when the inventory allows', true, 'reboot'],
  ])('%s', (_name, allowReboot, last) => {
    const nodes = site().map((n) => (n.roles.includes('gpu') ? { ...n, nvidiaDriver: '580.95.05' } : n));
    const plan = planUpgrade(input(cluster(nodes), { allowReboot }));
    if (!plan.ok) throw new Error(JSON.stringify(plan.refusals));
    expect(plan.changes.find((c) => c.component === 'nvidia-driver')).toEqual({ component: 'nvidia-driver', from: '580.95.05', to: '580.126.18', nodes: ['gpu1', 'gpu2'] });
    const gpu = plan.stages.flatMap((s) => (s.kind === 'nodes' ? s.steps : [])).find((s) => s.host === 'gpu1')!;
    expect(gpu.actions).toEqual(['upgrade-kubeadm-package', 'kubeadm-upgrade-node', 'drain', 'upgrade-nvidia-driver', 'upgrade-kubelet-package', last, 'uncordon']);
  });

  it('upgrades only the runtime of nodes where containerd differs, on a cluster already at the target', () => {
    const nodes = site().map((n) => ({ ...n, kubelet: 'v1.33.13', kubeadm: '1.33.13', ...(n.apiServer ? { apiServer: 'v1.33.13' } : {}), ...(n.name === 'w2' ? { containerd: '2.0.5' } : {}) }));
    const plan = planUpgrade(input(cluster(nodes, 'v1.33.13')));
    if (!plan.ok) throw new Error(JSON.stringify(plan.refusals));
    expect(plan.changes).toEqual([{ component: 'containerd', from: '2.0.5', to: '2.0.8', nodes: ['w2'] }]);
    expect(plan.stages.flatMap((s) => (s.kind === 'nodes' ? s.steps : []))).toEqual([{ host: 'w2', role: 'worker', actions: ['drain', 'upgrade-container-runtime', 'restart-kubelet', 'uncordon'] }]);
  });

  it('resumes after apply: the API server is at the target, the remaining nodes get upgrade node', () => {
    const nodes = site().map((n) => (n.name === 'cp1' ? { ...n, kubelet: 'v1.33.13', kubeadm: '1.33.13', apiServer: 'v1.33.13' } : n));
    const plan = planUpgrade(input(cluster(nodes, 'v1.33.13')));
    if (!plan.ok) throw new Error(JSON.stringify(plan.refusals));
    const steps = plan.stages.flatMap((s) => (s.kind === 'nodes' ? s.steps : []));
    expect(steps.map((s) => s.host)).toEqual(['cp2', 'cp3', 'w1', 'w2', 'gpu1', 'gpu2']);
    expect(steps.every((s) => !s.actions.includes('kubeadm-upgrade-apply'))).toBe(true);
  });

  it('has nothing to do when every node already runs the lock', () => {
    const nodes = site().map((n) => ({ ...n, kubelet: 'v1.33.13', ...(n.apiServer ? { apiServer: 'v1.33.13' } : {}) }));
    expect(planUpgrade(input(cluster(nodes, 'v1.33.13')))).toEqual({ ok: true, target: 'v1.33.13', changes: [], stages: [] });
  });
});

describe('planUpgrade: refusals before any change', () => {
  it.each([
    ['skipping a minor', cluster(site().map((n) => ({ ...n, kubelet: 'v1.31.4' })), 'v1.31.4'), bundle, ['skips-minor', 'kubelet-too-old'], 'upgrade to 1.32 first'],
    ['a Kubernetes downgrade', cluster(site().map((n) => ({ ...n, kubelet: 'v1.34.1' })), 'v1.34.1'), bundle, ['downgrade'], 'ferry does not downgrade'],
    ['a containerd downgrade', cluster(site().map((n) => (n.name === 'w1' ? { ...n, containerd: '2.1.4' } : n))), bundle, ['downgrade'], 'w1 runs containerd 2.1.4'],
    ['a kubelet newer than the API server', cluster(site().map((n) => (n.name === 'w2' ? { ...n, kubelet: 'v1.32.10' } : n))), bundle, ['kubelet-newer-than-api-server'], 'kubelet v1.32.10 on w2 is newer than the API server v1.32.9'],
    ['a kubelet two minors behind the target', cluster(site().map((n) => (n.name === 'w1' ? { ...n, kubelet: 'v1.31.2' } : n))), bundle, ['kubelet-too-old'], 'kubelet v1.31.2 on w1'],
    ['a bundle without the new kubeadm', cluster(site()), { ...bundle, packages: bundle.packages.filter((p) => p.name !== 'kubeadm') }, ['bundle-lacks'], 'the bundle has nothing for kubeadm'],
    ['a bundle without the new apiserver image', cluster(site()), { ...bundle, images: bundle.images.filter((r) => !r.includes('kube-apiserver')) }, ['bundle-lacks'], 'registry.k8s.io/kube-apiserver:v1.33.13'],
    ['an inventory without control planes', cluster(site().filter((n) => !n.roles.includes('control-plane'))), bundle, ['no-control-plane'], 'no control plane'],
  ])('refuses %s', (_name, running, contents, ids, text) => {
    const plan = planUpgrade(input(running, { bundle: contents }));
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect([...new Set(plan.refusals.map((r) => r.id))]).toEqual(ids);
    expect(plan.refusals.map((r) => `${r.message} (${r.fix})`).join('\n')).toContain(text);
    expect(plan.refusals.every((r) => r.fix.length > 0)).toBe(true);
  });
});

describe('planUpgrade: a CRI-O lock', () => {
  it('is refused: ferry upgrades containerd clusters only', () => {
    const crio = { ...lock, stack: { ...lock.stack, cri: { name: 'cri-o' as const, version: '1.33.0' } } };
    const plan = planUpgrade({ running: cluster(site()), lock: crio, bundle });
    expect(!plan.ok && plan.refusals.find((r) => r.id === 'not-installable')?.message).toMatch(/cannot install CRI-O yet/);
  });
});

describe('compareVersion', () => {
  it.each([
    ['580.126.18', '580.95.05', 1],
    ['v1.33.13', '1.33.9', 1],
    ['2.0.8', '2.0.8-1.el9', 0],
    ['1.7.27', '2.0.0', -1],
  ])('%s vs %s → %d', (a, b, want) => {
    expect(compareVersion(a, b)).toBe(want);
  });
});
