// upgrade-gate, etcd-snapshot and upgrade-registry: what `ferry upgrade` does before any node changes.
// - upgrade-gate reads every node's running versions (read-only) and the new bundle, and runs the pure upgrade plan
//   (src/upgrade/plan.ts): its refusals stop the run here, before anything changed (exit 7, each with its fix).
// - etcd-snapshot takes one snapshot of etcd on the first control plane when an upgrade is planned (once per run),
//   fetched to the state directory's etcd-snapshots/ with its sha256 (src/etcd/snapshot.ts's takeSnapshot).
// - upgrade-registry pushes the new bundle's images into the running local registry replicas (no restart: what the
//   pods pull keeps being served), and checks every manifest resolves there.
import { join } from 'node:path';
import { BundleLayout } from '../../bundle/layout.ts';
import { bundleContents } from '../../bundle/lock-match.ts';
import { takeSnapshot } from '../../etcd/snapshot.ts';
import { UserError } from '../../errors.ts';
import type { Host } from '../../hosts/host.ts';
import { ReadOnlyHost } from '../../hosts/read-only.ts';
import { RegistryClient } from '../../registry-client/client.ts';
import { caPaths } from '../../registry/pki.ts';
import { readLayoutPlan } from '../../registry/layout-files.ts';
import { LOCAL_REGISTRY } from '../../registry/local-name.ts';
import { checkResolvable, seedReplica } from '../../registry/seed.ts';
import { trustRegistryCa } from '../../registry/trust.ts';
import { REGISTRY_UNIT } from '../../render/registry.ts';
import { registryHosts } from '../../render/node-files.ts';
import { planUpgrade, type UpgradeInput, type UpgradePlan } from '../../upgrade/plan.ts';
import { bundleManifest } from '../bundle-manifest.ts';
import { stateLayout } from '../kube/admin-state.ts';
import { firstControlPlane, hostOf, kubeNodes } from '../kube/cluster.ts';
import { registryCaDir } from '../local-registry.ts';
import type { PhaseContext, Phase } from '../phase.ts';
import { requireLock } from '../render-inputs.ts';
import type { Step } from '../step.ts';
import { clusterVersion, readNodeList, readRunningNode } from './running.ts';

/** Every node's running versions and the new bundle's contents: the upgrade plan's input (read-only). */
export async function readUpgradeInput(ctx: PhaseContext): Promise<UpgradeInput> {
  const lock = requireLock(ctx);
  if (!ctx.bundleDir) throw new UserError('ferry upgrade needs the new bundle', { hint: 'pass --bundle DIR' });
  const first = new ReadOnlyHost(hostOf(ctx, firstControlPlane(ctx.inventory).name));
  const statuses = await readNodeList(first);
  const nodes = await Promise.all(kubeNodes(ctx.inventory).map((spec) => readRunningNode(new ReadOnlyHost(hostOf(ctx, spec.name)), spec, statuses.get(spec.name))));
  const missing = nodes.filter((n) => !n.kubelet).map((n) => n.name);
  if (missing.length > 0)
    throw new UserError(`the API does not list ${missing.join(', ')}: ferry upgrade upgrades an installed cluster`, { hint: `join them first (ferry add-node --host NAME), or take them out of the inventory` });
  const manifest = await bundleManifest(ctx);
  const index = await ctx.admin.readFile(join(ctx.bundleDir, BundleLayout.imageIndex)).then((b) => b.toString('utf8'), () => undefined);
  return {
    running: { kubernetes: clusterVersion(nodes), nodes }, lock, bundle: bundleContents(manifest.artifacts, index),
    maxUnavailableWorkers: ctx.inventory.upgrade.maxUnavailableWorkers, allowReboot: ctx.inventory.upgrade.allowReboot,
  };
}

/** The upgrade plan from what the cluster runs now (the gate and the snapshot each read it afresh). */
function upgradePlanOf(ctx: PhaseContext): Promise<UpgradePlan> {
  return readUpgradeInput(ctx).then(planUpgrade);
}

/** The gate's plan: nothing, or every refusal as one error before any change. */
export function planGate(plan: UpgradePlan): Step[] {
  if (plan.ok) return [];
  // The runner reports a failed host by its message alone, so each fix goes into the message too.
  throw new UserError(`the upgrade is refused; nothing was changed:\n  ${plan.refusals.map((r) => `${r.id}: ${r.message}; fix: ${r.fix}`).join('\n  ')}`, {
    hint: plan.refusals.map((r) => r.fix).join('\n'),
  });
}

/** Whether the plan changes any node. */
export function upgradePlanned(plan: UpgradePlan): boolean {
  return plan.ok && plan.stages.some((s) => s.kind === 'nodes');
}

export const upgradeGatePhase: Phase<Record<string, unknown>, UpgradePlan> = {
  id: 'upgrade-gate',
  title: 'Upgrade gate: running versions, the upgrade plan, refusals before any change',
  wholeCluster: true,
  undo: { none: 'the gate only reads' },
  targets: (ctx) => [firstControlPlane(ctx.inventory)],
  observe: (_target, ctx) => upgradePlanOf(ctx),
  plan: (plan) => planGate(plan),
};

/** What etcd-snapshot sees: whether an upgrade is planned, and whether this run took its snapshot already. */
export interface SnapshotSeen {
  planned: boolean;
  taken: boolean;
}

const SNAPSHOT_MEMO = 'upgrade:etcd-snapshot';

/** One snapshot per run, only when an upgrade is planned. */
export function planSnapshot(seen: SnapshotSeen, take: Step): Step[] {
  return seen.planned && !seen.taken ? [take] : [];
}

/** Takes the snapshot on `node` and keeps it (0600) with its sha256 under the state directory. */
async function keepSnapshot(node: Host, admin: Host, dir: string, now: Date): Promise<string> {
  const { data, name, result } = await takeSnapshot(node, now);
  const file = join(dir, name);
  await admin.exec(['install', '-d', '-m', '0700', dir]);
  await admin.writeFile(file, data, { mode: 0o600 });
  await admin.writeFile(`${file}.sha256`, `${result.sha256}  ${name}\n`, { mode: 0o600 });
  return file;
}

export const etcdSnapshotPhase: Phase<Record<string, unknown>, SnapshotSeen> = {
  id: 'etcd-snapshot',
  title: 'etcd snapshot on the first control plane, kept on the admin host',
  wholeCluster: true,
  undo: { none: 'a snapshot changes nothing on the cluster (the file stays under the state directory)' },
  targets: (ctx) => [firstControlPlane(ctx.inventory)],
  async observe(_target, ctx) {
    return { planned: upgradePlanned(await upgradePlanOf(ctx)), taken: ctx.state.memo.has(SNAPSHOT_MEMO) };
  },
  plan(seen, { ctx }) {
    const dir = stateLayout(ctx).etcdSnapshotsDir;
    return planSnapshot(seen, {
      kind: 'task', what: `etcd snapshot, fetched to ${dir} with its sha256`,
      run: async ({ node, admin }) => {
        const file = await keepSnapshot(node, admin, dir, ctx.now());
        ctx.state.memo.set(SNAPSHOT_MEMO, Promise.resolve(file));
      },
    });
  },
};

/** What upgrade-registry sees on a replica: the service runs, and whether it serves every image of the new bundle. */
export interface SeedSeen {
  active: boolean;
  resolvable: boolean;
}

/** Seed when the replica lacks some image; a replica that is not running is refused (install made it). */
export function planSeed(seen: SeedSeen, node: string, seed: Step): Step[] {
  if (!seen.active) throw new UserError(`the local registry on ${node} is not running`, { hint: `start it (systemctl start ${REGISTRY_UNIT} on ${node}) or run ferry registry deploy, then run the same command again` });
  return seen.resolvable ? [] : [seed];
}

export const upgradeRegistryPhase: Phase<Record<string, unknown>, SeedSeen> = {
  id: 'upgrade-registry',
  title: "The new bundle's images into the running local registry",
  undo: { none: 'images added to the registry are left; the old ones stay too' },
  targets: (ctx) => registryHosts(ctx.inventory),
  async observe(target, ctx) {
    const active = (await target.host.exec(['systemctl', 'is-active', REGISTRY_UNIT], { allowFailure: true })).stdout.trim() === 'active';
    if (!active || !ctx.bundleDir) return { active, resolvable: false };
    trustRegistryCa((await target.admin.readFile(caPaths(registryCaDir(ctx)).certPath)).toString('utf8'));
    const plan = await readLayoutPlan(join(ctx.bundleDir, BundleLayout.imagesDir), target.admin);
    const resolvable = await checkResolvable(new RegistryClient(), [`${target.spec.address}:${LOCAL_REGISTRY.port}`], plan).then(() => true, () => false);
    return { active, resolvable };
  },
  plan(seen, { spec, ctx }) {
    const replica = `${spec.address}:${LOCAL_REGISTRY.port}`;
    return planSeed(seen, spec.name, {
      kind: 'task', what: `seed ${replica} with the new bundle's images and check every manifest resolves there`,
      run: async ({ admin }) => {
        const layout = join(ctx.bundleDir!, BundleLayout.imagesDir);
        const plan = await readLayoutPlan(layout, admin);
        const client = new RegistryClient();
        await seedReplica(client, replica, layout, plan);
        await checkResolvable(client, [replica], plan);
      },
    });
  },
};
