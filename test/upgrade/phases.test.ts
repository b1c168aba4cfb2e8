// The upgrade and certs-renew phases' plan functions, by tables of observations → steps (one line per step, as a plan
// prints them), and their parsers of what nodes print. The gate's refusals come from planUpgrade (test/upgrade/plan.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { judgeExpiry } from '../../src/certs/expiry.ts';
import { Lock } from '../../src/config/lock.ts';
import { UserError } from '../../src/errors.ts';
import { dueCertificates, planRenew, type RenewSeen } from '../../src/phases/certs-renew.ts';
import type { DriverSeen } from '../../src/phases/gpu-driver.ts';
import { debianFamily } from '../../src/phases/os/debian.ts';
import { describeStep, type Step } from '../../src/phases/step.ts';
import { planGate, planSeed, planSnapshot, upgradePlanned } from '../../src/phases/upgrade/gate.ts';
import { drainArgv, planNodeUpgrade, type NodeUpgradeSeen } from '../../src/phases/upgrade/nodes.ts';
import { clusterVersion, parseApiServerTag, parseContainerdVersion, parseNodeList, parseRuncVersion, parseVersions } from '../../src/phases/upgrade/running.ts';
import { StateLayout } from '../../src/state/layout.ts';
import { planUpgrade } from '../../src/upgrade/plan.ts';

const lines = (steps: readonly Step[]) => steps.map(describeStep);
const K = 'kubectl --kubeconfig /etc/kubernetes/admin.conf';
const input = { waitReady: async () => {} };

const seen = (over: Partial<NodeUpgradeSeen> = {}): NodeUpgradeSeen => ({
  node: 'cp1', first: 'cp1', controlPlane: true, family: debianFamily, target: '1.34.2', cluster: 'v1.33.6', apiServer: 'v1.33.6',
  wrong: ['kubeadm', 'kubelet', 'kubectl'], unheld: [], status: { name: 'cp1', kubelet: 'v1.33.6', ready: true, cordoned: false },
  runtimeChanges: false, drainTimeoutSeconds: 300, allowReboot: false, ...over,
});

const installLine = (pkgs: string) => `apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 install --no-install-recommends ${pkgs}`;

describe('planNodeUpgrade', () => {
  const uncordon = (node: string) => [`wait until the API reports ${node} Ready at v1.34.2`, `cp1: ${K} uncordon ${node}`];
  const settled = 'ok=0; for i in $(seq 120); do if kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw /readyz >/dev/null 2>&1; then ok=$((ok+1)); [ "$ok" -ge 3 ] && exit 0; else ok=0; fi; sleep 2; done\necho "the API did not answer steadily within 4 minutes of the control plane\'s upgrade" >&2; exit 1';
  const rest = (node: string, first = 'cp1') => [
    ...(node.startsWith('cp') ? [settled] : []),
    `${first}: ${K} drain ${node} --ignore-daemonsets --delete-emptydir-data --timeout=300s`,
    'apt-mark unhold kubelet kubectl', installLine('kubelet=1.34.2-1.1 kubectl=1.34.2-1.1'), 'apt-mark hold kubelet kubectl',
    'systemctl daemon-reload', 'systemctl restart kubelet', ...uncordon(node),
  ];
  const kubeadmPkg = ['apt-mark unhold kubeadm', installLine('kubeadm=1.34.2-1.1'), 'apt-mark hold kubeadm'];
  it.each<[string, Partial<NodeUpgradeSeen>, string[]]>([
    ['first control plane, cluster not yet at the target: kubeadm upgrade apply', {}, [...kubeadmPkg, 'kubeadm upgrade apply v1.34.2 --yes', ...rest('cp1')]],
    ['another control plane once the cluster is at the target: upgrade node', { node: 'cp2', cluster: 'v1.34.2', status: { name: 'cp2', kubelet: 'v1.33.6', ready: true, cordoned: false } },
      [...kubeadmPkg, 'kubeadm upgrade node', ...rest('cp2')]],
    ['a worker: upgrade node, drained through the first control plane', { node: 'w1', controlPlane: false, cluster: 'v1.34.2', status: { name: 'w1', kubelet: 'v1.33.6', ready: true, cordoned: false } },
      [...kubeadmPkg, 'kubeadm upgrade node', ...rest('w1')]],
    ['first control plane after an apply that failed once its static pods moved: applies again (the cluster may not record it)', {
      apiServer: 'v1.34.2', cluster: 'v1.34.2', wrong: ['kubelet', 'kubectl'],
    }, ['kubeadm upgrade apply v1.34.2 --yes', ...rest('cp1')]],
    ['resume after a drain a PodDisruptionBudget stopped: kubeadm and static pods done, node cordoned', {
      node: 'cp2', cluster: 'v1.34.2', apiServer: 'v1.34.2', wrong: ['kubelet', 'kubectl'], status: { name: 'cp2', kubelet: 'v1.33.6', ready: true, cordoned: true },
    }, rest('cp2')],
    ['at the target but still cordoned (stopped before uncordon): wait and uncordon only', {
      apiServer: 'v1.34.2', cluster: 'v1.34.2', wrong: [], status: { name: 'cp1', kubelet: 'v1.34.2', ready: true, cordoned: true },
    }, uncordon('cp1')],
    ['at the target, Ready, schedulable: nothing', { apiServer: 'v1.34.2', cluster: 'v1.34.2', wrong: [], status: { name: 'cp1', kubelet: 'v1.34.2', ready: true, cordoned: false } }, []],
    ['at the target but a package left unheld: hold it again', { apiServer: 'v1.34.2', cluster: 'v1.34.2', wrong: [], unheld: ['kubelet'], status: { name: 'cp1', kubelet: 'v1.34.2', ready: true, cordoned: false } },
      ['apt-mark hold kubeadm kubelet kubectl']],
    ['only the container runtime changes: drained, containerd.io, restarts', {
      node: 'w1', controlPlane: false, cluster: 'v1.34.2', wrong: [], runtimeChanges: true, status: { name: 'w1', kubelet: 'v1.34.2', ready: true, cordoned: false },
    }, [`cp1: ${K} drain w1 --ignore-daemonsets --delete-emptydir-data --timeout=300s`, installLine('containerd.io'), 'systemctl restart containerd', 'systemctl daemon-reload', 'systemctl restart kubelet', ...uncordon('w1')]],
  ])('%s', (_name, over, want) => {
    expect(lines(planNodeUpgrade(seen(over), input))).toEqual(want);
  });

  describe('a GPU node whose driver changes', () => {
    const driver = (over: Partial<DriverSeen> = {}): DriverSeen => ({
      host: 'g1', family: debianFamily, driver: { kind: 'dkms', install: ['nvidia-open-580'], installed: ['nvidia-open-580'], branch: 580 }, loaded: '570.195.03',
      missing: ['nvidia-open-580'], blacklistChanged: false, persistenced: { enabled: true, active: true },
      smi: { exitCode: 18, stdout: '', stderr: 'Failed to initialize NVML: Driver/library version mismatch' }, ...over,
    });
    const gpu = (over: Partial<NodeUpgradeSeen> = {}) => seen({
      node: 'g1', controlPlane: false, cluster: 'v1.34.2', wrong: [], status: { name: 'g1', kubelet: 'v1.34.2', ready: true, cordoned: false }, ...over,
    });
    const drain = `cp1: ${K} drain g1 --ignore-daemonsets --delete-emptydir-data --timeout=300s`;
    it('drains and installs the new branch; no uncordon in the same look (nvidia-smi is read first)', () => {
      expect(lines(planNodeUpgrade(gpu({ driver: driver() }), input))).toEqual([drain, installLine('nvidia-open-580')]);
    });
    it('in a dry run the driver is named, not planned against the node\'s repository (still the old bundle\'s), and nothing after it', () => {
      expect(lines(planNodeUpgrade(gpu({ driverInDryRun: { branch: '580', version: '580.82.07' } }), input))).toEqual([
        drain, expect.stringMatching(/^the NVIDIA driver 580\.82\.07 \(branch 580\) from the new bundle's repository, as gpu-driver plans it once copy-bundle has put that repository on g1/),
      ]);
    });
    it('over another branch (its pin installed, the driver packages installed by name): the old pin purged, the plan installed again', () => {
      expect(lines(planNodeUpgrade(gpu({ driver: driver({ missing: [], otherBranchPins: ['nvidia-driver-pinning-570'] }) }), input))).toEqual([
        drain, expect.stringMatching(/^apt-get .* purge nvidia-driver-pinning-570$/), installLine('nvidia-open-580'),
      ]);
    });
    it('once nvidia-smi answers the new branch (the driver no longer differs): kubelet restarted, Ready, uncordoned', () => {
      expect(lines(planNodeUpgrade(gpu({ status: { name: 'g1', kubelet: 'v1.34.2', ready: true, cordoned: true } }), input))).toEqual(['wait until the API reports g1 Ready at v1.34.2', `cp1: ${K} uncordon g1`]);
    });
    it('installed but the old module loaded: stops, naming the node, asking for a reboot (allowReboot false)', () => {
      expect(() => planNodeUpgrade(gpu({ driver: driver({ missing: [] }) }), input)).toThrow(/g1: the NVIDIA driver of branch 580 is installed but the running module is the old one; g1 is drained and stays cordoned/);
    });
    it('with allowReboot: reboots it and waits for it', () => {
      expect(lines(planNodeUpgrade(gpu({ allowReboot: true, driver: driver({ missing: [] }) }), input))).toEqual([drain, 'systemctl reboot', 'wait until g1 is back after its reboot']);
    });
    it('a verdict other than the old module stands as gpu-driver says it', () => {
      expect(() => planNodeUpgrade(gpu({ allowReboot: true, driver: driver({ missing: [], loaded: undefined, smi: { exitCode: 0, stdout: '', stderr: '' } }) }), input)).toThrow(/listed no GPU/);
    });
  });

  it('refuses a node the API does not list', () => {
    const { status: _, ...rest } = seen();
    expect(() => planNodeUpgrade(rest, input)).toThrow(/the API does not list it/);
  });

  it('never forces a drain and always bounds it', () => {
    expect(drainArgv('w1', 12)).toEqual(['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', 'drain', 'w1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=12s']);
  });
});

describe('parsers of what nodes print', () => {
  it('reads kubelet version, Ready and cordoned from kubectl get nodes -o json', () => {
    const json = JSON.stringify({ items: [
      { metadata: { name: 'cp1' }, spec: {}, status: { nodeInfo: { kubeletVersion: 'v1.33.6' }, conditions: [{ type: 'Ready', status: 'True' }] } },
      { metadata: { name: 'w1' }, spec: { unschedulable: true }, status: { nodeInfo: { kubeletVersion: 'v1.34.2' }, conditions: [{ type: 'Ready', status: 'False' }] } },
    ] });
    expect([...parseNodeList(json).values()]).toEqual([
      { name: 'cp1', kubelet: 'v1.33.6', ready: true, cordoned: false },
      { name: 'w1', kubelet: 'v1.34.2', ready: false, cordoned: true },
    ]);
    expect(() => parseNodeList('error: the server')).toThrow(/no JSON/);
  });

  it('reads the version script sections', () => {
    const out = [
      '==kubeadm==', 'v1.33.6', '==containerd==', 'containerd containerd.io 2.1.9 abc123', '==runc==', 'runc version 1.1.5+ds1', 'commit: x',
      '==apiserver==', 'spec:', '  containers:', '  - image: ferry-registry.local:5000/registry.k8s.io/kube-apiserver:v1.33.6', '==nvidia==', '580.95.05',
    ].join('\n');
    expect(parseVersions(out)).toEqual({ kubeadm: 'v1.33.6', containerd: '2.1.9', runc: '1.1.5', apiServer: 'v1.33.6', nvidiaDriver: '580.95.05' });
    expect(parseVersions('==kubeadm==\n==containerd==\n==runc==\n==apiserver==\n==nvidia==\n')).toEqual({});
    expect(parseContainerdVersion('containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1')).toBe('1.6.20');
    expect(parseRuncVersion('runc version 1.3.5\n')).toBe('1.3.5');
    expect(parseApiServerTag('image: kube-apiserver:v1.33.6')).toBeUndefined();
  });

  it('takes the cluster version as the newest kube-apiserver among the control planes', () => {
    expect(clusterVersion([
      { roles: ['control-plane'], kubelet: 'v1.33.6', apiServer: 'v1.33.6' },
      { roles: ['control-plane'], kubelet: 'v1.33.6', apiServer: 'v1.34.2' },
      { roles: ['worker'], kubelet: 'v1.35.0' },
    ])).toBe('v1.34.2');
  });
});

describe('the gate, the snapshot and the seeding', () => {
  const lock = Lock.parse(parse(readFileSync(join(import.meta.dirname, '..', 'bundle', 'fixtures', 'lock-rocky9-h100.yaml'), 'utf8')));
  const bundle = {
    packages: [
      { name: 'kubeadm', version: '1.33.13-150500.1.1' }, { name: 'kubelet', version: '1.33.13-150500.1.1' }, { name: 'kubectl', version: '1.33.13-150500.1.1' },
      { name: 'containerd.io', version: '2.0.8-1.el9' }, { name: 'nvidia-open', version: '3:580.126.18-1.el9' },
    ],
    files: [{ component: 'registry', name: 'registry' }], images: lock.images.map((i) => i.ref),
  };
  const node = (name: string, kubelet: string) => ({ name, roles: ['control-plane' as const], kubelet, apiServer: kubelet, kubeadm: kubelet, containerd: '2.0.8', runc: '1.3.5' });
  const plan = (kubernetes: string) => planUpgrade({ running: { kubernetes, nodes: [node('cp1', kubernetes)] }, lock, bundle });

  it('passes a planned upgrade and a converged cluster; refuses a skipped minor with nothing planned', () => {
    expect(planGate(plan('v1.32.9'))).toEqual([]);
    expect(upgradePlanned(plan('v1.32.9'))).toBe(true);
    expect(planGate(plan('v1.33.13'))).toEqual([]);
    expect(upgradePlanned(plan('v1.33.13'))).toBe(false);
    const refused = plan('v1.31.4');
    expect(() => planGate(refused)).toThrow(UserError);
    expect(() => planGate(refused)).toThrow(/refused; nothing was changed:\n {2}skips-minor/);
  });

  it('takes one snapshot per run, only when an upgrade is planned', () => {
    const take: Step = { kind: 'task', what: 'snapshot', run: async () => {} };
    expect(lines(planSnapshot({ planned: true, taken: false }, take))).toEqual(['snapshot']);
    expect(planSnapshot({ planned: true, taken: true }, take)).toEqual([]);
    expect(planSnapshot({ planned: false, taken: false }, take)).toEqual([]);
  });

  it('seeds a replica that lacks images; refuses one that is not running', () => {
    const seed: Step = { kind: 'task', what: 'seed', run: async () => {} };
    expect(lines(planSeed({ active: true, resolvable: false }, 'cp1', seed))).toEqual(['seed']);
    expect(planSeed({ active: true, resolvable: true }, 'cp1', seed)).toEqual([]);
    expect(() => planSeed({ active: false, resolvable: false }, 'cp1', seed)).toThrow(/not running/);
  });
});

describe('certs-renew', () => {
  const layout = new StateLayout('/state/lab');
  const renew = (over: Partial<RenewSeen>) => lines(planRenew({ node: 'cp1', first: true, due: ['apiserver'], force: false, renewed: false, ...over }, { layout, restartWaitSeconds: 20 }));
  it('renews, restarts the static pods, waits for the API and fetches admin.conf on the first control plane', () => {
    const out = renew({});
    expect(out[0]).toBe('kubeadm certs renew all');
    expect(out[1]).toMatch(/mv "\$f" \/etc\/kubernetes\/ferry-manifests-moved\/; done\nsleep 20\n/);
    expect(out[2]).toMatch(/get --raw \/readyz/);
    expect(out[3]).toBe("fetch /etc/kubernetes/admin.conf to the admin host's /state/lab/admin.conf");
    expect(renew({ first: false })).toHaveLength(3);
  });
  it.each<[string, Partial<RenewSeen>, number]>([
    ['nothing due', { due: [] }, 0],
    ['nothing due, --force', { due: [], force: true }, 4],
    ['renewed in this run already (forced)', { force: true, renewed: true }, 0],
  ])('%s', (_name, over, n) => expect(renew(over)).toHaveLength(n));

  it('counts certificates within 30 days, not CAs and not ones far off', () => {
    const now = new Date('2026-12-07T00:00:00Z');
    const day = (d: number) => new Date(now.getTime() + d * 86_400_000);
    const verdicts = judgeExpiry([
      { name: 'apiserver', kind: 'certificate', notAfter: day(5), externallyManaged: false },
      { name: 'admin.conf', kind: 'certificate', notAfter: day(20), externallyManaged: false },
      { name: 'etcd-server', kind: 'certificate', notAfter: day(300), externallyManaged: false },
      { name: 'ca', kind: 'authority', notAfter: day(10), externallyManaged: false },
    ], now);
    expect(dueCertificates({ host: 'cp1', source: 'kubeadm', status: 'fail', certificates: verdicts })).toEqual(['apiserver', 'admin.conf']);
  });
});
