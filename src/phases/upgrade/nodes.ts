// upgrade-control-planes (serial) and upgrade-workers (batches of inventory.upgrade.maxUnavailableWorkers): one node's
// upgrade as kubeadm's page orders it (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/):
// the new kubeadm package, `kubeadm upgrade apply vX.Y.Z --yes` on the first control plane whose static pods are not
// at the target while the cluster is not either (else `kubeadm upgrade node`), drain, the container runtime and the
// NVIDIA driver where they change, the new kubelet and kubectl (held again), kubelet restarted, and uncordon once the
// API reports the node Ready at the target (and, on a GPU node whose driver changed, once nvidia-smi answers the new
// branch). Each look reads the node again, so a run stopped anywhere (a drain a PodDisruptionBudget blocks, a reboot
// the operator must do) resumes from where the node is; a node already at the target, Ready and schedulable plans
// nothing. kubectl runs on the first control plane (the only nodes with admin.conf are control planes).
import { setTimeout as sleep } from 'node:timers/promises';
import type { InventoryHost } from '../../config/inventory.ts';
import { UserError } from '../../errors.ts';
import { ReadOnlyHost } from '../../hosts/read-only.ts';
import type { Host } from '../../hosts/host.ts';
import { judgeSmi } from '../../gpu/smi-verdict.ts';
import { compareVersion } from '../../upgrade/plan.ts';
import { ADMIN_CONF, controlPlanes, firstControlPlane, hostOf, kubectl, kubeNodes, workerNodes } from '../kube/cluster.ts';
import { sh } from '../../hosts/shell.ts';
import { KUBE_PACKAGES, kubePackageSpecs, kubeVersionQuery, wrongKubePackages } from '../kube/package-versions.ts';
import { gpuDriverPhase, planGpuDriver, type DriverSeen } from '../gpu-driver.ts';
import { nodeFacts } from '../node-facts.ts';
import type { OsFamily } from '../os/family.ts';
import { pickFamily } from '../os/pick.ts';
import { installStep } from '../packages.ts';
import type { PhaseContext, Phase } from '../phase.ts';
import { requireLock } from '../render-inputs.ts';
import { exec, type Step } from '../step.ts';
import { clusterVersion, readNodeList, readRunningNode, type NodeStatus } from './running.ts';

export const UPGRADE_PACKAGES_PHASE = 'kubernetes-packages';

/** What one node's upgrade sees. */
export interface NodeUpgradeSeen {
  node: string;
  /** The first control plane, where kubectl runs. */
  first: string;
  controlPlane: boolean;
  family: OsFamily;
  /** The lock's Kubernetes version, e.g. 1.34.2. */
  target: string;
  /** The newest kube-apiserver tag among the control planes (what the gate takes as the cluster's version; shown, not
   * decided on: the first control plane applies until its own upgrade is through). */
  cluster: string;
  /** This control plane's kube-apiserver tag. */
  apiServer?: string;
  /** kubeadm, kubelet, kubectl not installed at the target, and those not held (Debian). */
  wrong: string[];
  unheld: string[];
  /** What the API says about the node (absent: not listed). */
  status?: NodeStatus;
  /** containerd/runc differ from the lock. */
  runtimeChanges: boolean;
  /** GPU nodes whose driver differs from the lock: what the gpu-driver phase sees there. */
  driver?: DriverSeen;
  /** A dry run on a GPU node whose driver differs: the node's repository is still the old bundle's (copy-bundle and
   * local-repo only recorded), so the driver's packages are named, not planned against it. */
  driverInDryRun?: { branch: string; version: string };
  drainTimeoutSeconds: number;
  allowReboot: boolean;
}

/** What the plan needs besides the observation: the waits, as tasks. */
export interface NodeUpgradeInput {
  waitReady: () => Promise<void>;
  waitBack?: () => Promise<void>;
}

const v = (s: string) => (s.startsWith('v') ? s : `v${s}`);
const same = (a: string | undefined, b: string) => a !== undefined && a !== '' && compareVersion(a, b) === 0;

/** The drain kubectl runs for an upgrade: DaemonSet pods stay, emptyDir data goes, never --force, always bounded. */
export function drainArgv(node: string, timeoutSeconds: number): string[] {
  return kubectl('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${timeoutSeconds}s`);
}

/** Bounded wait (4 minutes) until the API answers /readyz through admin.conf three times in a row, 2 s apart. */
export const API_SETTLED = sh`ok=0; for i in $(seq 120); do if kubectl --kubeconfig ${ADMIN_CONF} get --raw /readyz >/dev/null 2>&1; then ok=$((ok+1)); [ "$ok" -ge 3 ] && exit 0; else ok=0; fi; sleep 2; done
echo "the API did not answer steadily within 4 minutes of the control plane's upgrade" >&2; exit 1`;

/** Install `names` at the target from the bundle's repository, unheld first and held again (Debian). */
function packageSteps(s: NodeUpgradeSeen, names: readonly string[]): Step[] {
  const specs = kubePackageSpecs(s.family.id, s.target).filter((p) => names.some((n) => p.startsWith(`${n}=`) || p.startsWith(`${n}-`)));
  if (specs.length === 0) return [];
  const debian = s.family.id === 'debian';
  return [
    ...(debian ? [exec(['apt-mark', 'unhold', ...names])] : []),
    installStep(s.family, specs, UPGRADE_PACKAGES_PHASE),
    ...(debian ? [exec(['apt-mark', 'hold', ...names])] : []),
  ];
}

/** The GPU driver's steps after the drain: the packages, then nvidia-smi at the new branch, or a reboot. */
function driverSteps(s: NodeUpgradeSeen, input: NodeUpgradeInput): Step[] {
  if (s.driverInDryRun)
    return [{ kind: 'task', what: `the NVIDIA driver ${s.driverInDryRun.version} (branch ${s.driverInDryRun.branch}) from the new bundle's repository, as gpu-driver plans it once copy-bundle has put that repository on ${s.node}; then nvidia-smi must answer the new branch (or a reboot)`, run: () => Promise.resolve() }];
  if (!s.driver) return [];
  try {
    return planGpuDriver(s.driver);
  } catch (error) {
    // Nothing left to install and nvidia-smi does not answer the new branch because the old module holds the GPU:
    // a reboot (any other verdict, or a refusal, stands as the gpu-driver phase says it).
    const d = s.driver;
    const verdict = d.driver.kind === 'refuse' ? undefined : judgeSmi(d.host, d.smi, d.driver.branch, d.loaded);
    if (!(error instanceof UserError) || !verdict || verdict.ok || !verdict.reboot) throw error;
    if (s.allowReboot)
      return [
        exec(['systemctl', 'reboot'], { allowFailure: true }),
        { kind: 'task', what: `wait until ${s.node} is back after its reboot`, run: () => input.waitBack?.() ?? Promise.resolve() },
      ];
    // The runner reports a failed host by its message alone, so the fix is in the message too.
    const hint = `reboot ${s.node} (or set upgrade.allowReboot: true in the inventory), then run the same command again: it uncordons ${s.node} once nvidia-smi answers the new branch`;
    throw new UserError(
      `${s.node}: the NVIDIA driver ${s.driver.driver.kind === 'refuse' ? '' : `of branch ${s.driver.driver.branch} `}is installed but the running module is the old one; ${s.node} is drained and stays cordoned until it is rebooted: ${hint}`,
      { hint },
    );
  }
}

/** The steps for one node, from what was seen; [] when it is at the target, Ready and schedulable. */
export function planNodeUpgrade(s: NodeUpgradeSeen, input: NodeUpgradeInput): Step[] {
  const on = { host: s.first };
  const kubeletAt = same(s.status?.kubelet, s.target);
  const staticPodsAt = !s.controlPlane || same(s.apiServer, s.target);
  const kubeDone = kubeletAt && s.wrong.length === 0 && staticPodsAt;
  const driverDone = !s.driver && !s.driverInDryRun;
  if (!s.status) throw new UserError(`${s.node} is not a node of the cluster (the API does not list it)`, { hint: `join it first: ferry add-node --host ${s.node}` });
  const holdAgain = s.family.id === 'debian' && s.unheld.length > 0 ? [exec(['apt-mark', 'hold', ...KUBE_PACKAGES])] : [];
  const uncordon: Step[] = [
    { kind: 'task', what: `wait until the API reports ${s.node} Ready at ${v(s.target)}`, run: () => input.waitReady() },
    exec(kubectl('uncordon', s.node), { on }),
  ];
  if (kubeDone && driverDone && !s.runtimeChanges) {
    if (s.status.ready && !s.status.cordoned) return holdAgain;
    return [...holdAgain, ...uncordon];
  }
  const steps: Step[] = [];
  if (s.wrong.includes('kubeadm')) steps.push(...packageSteps(s, ['kubeadm']));
  // The first control plane applies, and applies again on every look until its own upgrade is through: its static
  // pods at the target do not prove the apply finished (kubeadm records the cluster's version after moving them),
  // and applying the version the cluster is at again is allowed. The other nodes upgrade node (idempotent too).
  if (!kubeDone && s.node === s.first) steps.push(exec(['kubeadm', 'upgrade', 'apply', v(s.target), '--yes'], { timeoutMs: 900_000 }));
  else if (s.controlPlane && !staticPodsAt) steps.push(exec(['kubeadm', 'upgrade', 'node'], { timeoutMs: 900_000 }));
  else if (!s.controlPlane && !kubeletAt) steps.push(exec(['kubeadm', 'upgrade', 'node'], { timeoutMs: 600_000 }));
  // After the control plane's static pods moved, the API is awaited through the endpoint until it answers three
  // times in a row, so the drain does not meet an API server still restarting.
  if (s.controlPlane && !kubeDone) steps.push(exec(API_SETTLED, { timeoutMs: 300_000 }));
  steps.push(exec(drainArgv(s.node, s.drainTimeoutSeconds), { on, timeoutMs: (s.drainTimeoutSeconds + 60) * 1000 }));
  if (s.runtimeChanges) steps.push(installStep(s.family, ['containerd.io'], 'container-runtime'), exec(['systemctl', 'restart', 'containerd']));
  // The driver's packages (or the reboot) end this look: the next one sees whether nvidia-smi answers the new branch,
  // and only then do the kubelet and the uncordon follow.
  const driver = driverSteps(s, input);
  if (driver.length > 0) return [...steps, ...driver];
  const kubeletWrong = s.wrong.filter((p) => p !== 'kubeadm');
  steps.push(...packageSteps(s, kubeletWrong));
  if (!kubeletAt || kubeletWrong.length > 0 || s.runtimeChanges) steps.push(exec(['systemctl', 'daemon-reload']), exec(['systemctl', 'restart', 'kubelet']));
  return [...steps, ...uncordon];
}

/** Polls the API (read-only, on the first control plane) until `node` is Ready at `target`. */
async function waitReady(ctx: PhaseContext, node: string, target: string): Promise<void> {
  const first = new ReadOnlyHost(hostOf(ctx, firstControlPlane(ctx.inventory).name));
  let last = 'not listed';
  for (let i = 0; i < 180; i++) {
    const status = await readNodeList(first).then((m) => m.get(node), (e: Error) => {
      last = e.message;
      return undefined;
    });
    if (status) last = `kubelet ${status.kubelet}, ${status.ready ? 'Ready' : 'NotReady'}`;
    if (status?.ready && same(status.kubelet, target)) return;
    await sleep(1000);
  }
  throw new UserError(`${node} is not Ready at ${v(target)} after 3 minutes (${last}); it stays cordoned`, { hint: `look at the kubelet on ${node} (journalctl -u kubelet), then run the same command again` });
}

/** Waits until `host` answers again after a reboot. */
async function waitBack(host: Host): Promise<void> {
  await sleep(10_000);
  for (let i = 0; i < 120; i++) {
    if ((await host.exec(['true'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined))?.exitCode === 0) return;
    await sleep(5000);
  }
  throw new UserError(`${host.name} did not come back within 10 minutes of its reboot`);
}

/** One node's observation (read-only hosts: the node's and the first control plane's). */
async function observeNode(spec: InventoryHost, host: Host, ctx: PhaseContext): Promise<NodeUpgradeSeen> {
  const lock = requireLock(ctx);
  const firstSpec = firstControlPlane(ctx.inventory);
  const first = new ReadOnlyHost(hostOf(ctx, firstSpec.name));
  const statuses = await readNodeList(first);
  const cps = await Promise.all(controlPlanes(ctx.inventory).map((cp) => readRunningNode(cp.name === spec.name ? host : new ReadOnlyHost(hostOf(ctx, cp.name)), cp, statuses.get(cp.name))));
  const me = cps.find((n) => n.name === spec.name) ?? (await readRunningNode(host, spec, statuses.get(spec.name)));
  const family = pickFamily(spec.name, await nodeFacts({ spec, host }, ctx.state));
  const installed = await host.exec(kubeVersionQuery(family.id), { allowFailure: true });
  const held = family.id === 'debian' ? (await host.exec(['apt-mark', 'showhold'])).stdout.split('\n').map((l) => l.trim()) : [...KUBE_PACKAGES];
  const stack = lock.stack;
  const runtimeChanges = (me.containerd !== undefined && compareVersion(me.containerd, stack.cri.version) !== 0) || (me.runc !== undefined && stack.runc !== undefined && compareVersion(me.runc, stack.runc) !== 0);
  const driverChanges = spec.roles.includes('gpu') && !!stack.nvidiaDriver && !same(me.nvidiaDriver, stack.nvidiaDriver.version);
  const inDryRun = driverChanges && ctx.dryRun === true;
  const driver = driverChanges && !inDryRun ? await gpuDriverPhase.observe({ spec, host, admin: new ReadOnlyHost(ctx.admin) }, ctx, {}) : undefined;
  const status = statuses.get(spec.name);
  return {
    node: spec.name, first: firstSpec.name, controlPlane: spec.roles.includes('control-plane'), family, target: stack.kubernetes.replace(/^v/, ''),
    cluster: clusterVersion(cps), ...(me.apiServer ? { apiServer: me.apiServer } : {}),
    wrong: wrongKubePackages(family.id, stack.kubernetes, installed.stdout), unheld: KUBE_PACKAGES.filter((p) => !held.includes(p)),
    ...(status ? { status } : {}), runtimeChanges, ...(driver ? { driver } : {}),
    ...(inDryRun && stack.nvidiaDriver ? { driverInDryRun: { branch: stack.nvidiaDriver.branch.replace(/^R/, ''), version: stack.nvidiaDriver.version } } : {}),
    drainTimeoutSeconds: ctx.inventory.upgrade.drainTimeoutSeconds, allowReboot: ctx.inventory.upgrade.allowReboot,
  };
}

const nodePhase = (id: string, title: string, targets: (ctx: PhaseContext) => InventoryHost[], serial: boolean): Phase<Record<string, unknown>, NodeUpgradeSeen> => ({
  id, title, targets,
  // A GPU node rebooted by ferry needs more looks: packages, the reboot, then kubelet and uncordon.
  rounds: 5,
  order: serial ? 'serial' : 'parallel',
  ...(serial ? {} : { concurrency: (_params: unknown, ctx: PhaseContext) => ctx.inventory.upgrade.maxUnavailableWorkers }),
  undo: { none: 'an upgrade is not undone: ferry does not downgrade (restore the etcd snapshot taken before it, docs/day-two.md)' },
  observe: (target, ctx) => observeNode(target.spec, target.host, ctx),
  plan: (seen, { spec, ctx }) => planNodeUpgrade(seen, {
    waitReady: () => waitReady(ctx, spec.name, seen.target),
    waitBack: () => waitBack(new ReadOnlyHost(hostOf(ctx, spec.name))),
  }),
});

export const upgradeControlPlanesPhase = nodePhase('upgrade-control-planes', 'Upgrade the control planes, one at a time', (ctx) => controlPlanes(ctx.inventory), true);

/** Workers, at most inventory.upgrade.maxUnavailableWorkers at once (the runner's concurrency bound). */
export const upgradeWorkersPhase = nodePhase('upgrade-workers', 'Upgrade the workers, in batches', (ctx) => workerNodes(ctx.inventory), false);

/** Every Kubernetes node (for the gate). */
export const upgradeNodes = (ctx: PhaseContext) => kubeNodes(ctx.inventory);
