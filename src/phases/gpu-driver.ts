// gpu-driver: the NVIDIA driver of the locked branch for the exact kernel a GPU node runs (precompiled module when
// the bundle has one, else DKMS with that kernel's headers, else a refusal before anything changes), nouveau
// blacklisted with the initramfs rebuilt, nvidia-persistenced enabled, the NVIDIA Container Toolkit, and a check
// that nvidia-smi answers with the locked branch. A reboot is never done here: when an old module holds the GPU
// the phase fails and says to reboot that node and run again.
import { carriedDriver } from '../bundle/gpu-drivers.ts';
import { UserError } from '../errors.ts';
import { planDriver, NOUVEAU_BLACKLIST, NOUVEAU_BLACKLIST_PATH } from '../gpu/driver-plan.ts';
import { gpuProbeScript, parseGpuProbe } from '../gpu/gpu-facts.ts';
import { judgeSmi, SMI_QUERY } from '../gpu/smi-verdict.ts';
import { renderedFile } from '../render/file.ts';
import { bundleManifest, checkBundleAgainstLock } from './bundle-manifest.ts';
import { nodeRepoDir } from './bundle-on-node.ts';
import { nodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import { installPackages, missingPackages } from './packages.ts';
import { filesToChange, placeFiles } from './place-files.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { requireLock } from './render-inputs.ts';

export const PERSISTENCED_UNIT = 'nvidia-persistenced';
const blacklistFile = () => renderedFile(NOUVEAU_BLACKLIST_PATH, NOUVEAU_BLACKLIST);

/** Hosts with role gpu. */
export function gpuHosts(ctx: PhaseContext) {
  return ctx.inventory.hosts.filter((h) => h.roles.includes('gpu'));
}

async function look(target: PhaseTarget, ctx: PhaseContext) {
  const { host } = target;
  const facts = await nodeFacts(target, ctx.state);
  const family = pickFamily(target.spec.name, facts);
  const lock = requireLock(ctx);
  const repoDir = nodeRepoDir(await bundleManifest(ctx), lock.stack.os);
  if (!repoDir) throw new UserError(`the bundle has no package repository for ${lock.stack.os.id} ${lock.stack.os.version}`);
  const probe = parseGpuProbe((await host.exec(gpuProbeScript(family.id, repoDir), { readOnly: true })).stdout);
  const node = { host: target.spec.name, family: family.id, osMajor: Number(facts.os.versionId.split('.')[0]), kernel: facts.kernel, machine: facts.machine, gpus: probe.gpus, initramfs: probe.initramfs };
  const plan = planDriver(node, lock.stack, probe.offered, carriedDriver(await bundleManifest(ctx), lock, facts.kernel)?.kind);
  return { family, plan, loaded: probe.loaded };
}

// Read-only in isDone; in run it checks what run just did, so a dry run lists it instead of running it.
async function smi(target: PhaseTarget, readOnly: boolean) {
  return target.host.exec(SMI_QUERY, { readOnly, allowFailure: true, timeoutMs: 60_000 });
}

async function persistencedActive(target: PhaseTarget): Promise<boolean> {
  const r = await target.host.exec(['systemctl', 'is-enabled', PERSISTENCED_UNIT], { readOnly: true, allowFailure: true });
  const a = await target.host.exec(['systemctl', 'is-active', PERSISTENCED_UNIT], { readOnly: true, allowFailure: true });
  return r.stdout.trim() === 'enabled' && a.stdout.trim() === 'active';
}

// The runner reports each failed host by its message alone, so the fix goes into the message too.
function fail(v: { reason: string; hint: string }): never {
  throw new UserError(`${v.reason}: ${v.hint}`, { hint: v.hint });
}

export const gpuDriverPhase: Phase = {
  id: 'gpu-driver',
  title: 'NVIDIA driver for the running kernel, container toolkit, nouveau off',
  undo: 'reset-gpu-driver',
  check: (ctx) => checkBundleAgainstLock(ctx, 'gpu-driver'),
  targets: gpuHosts,
  async isDone(target, ctx) {
    const s = await look(target, ctx);
    if (s.plan.kind === 'refuse') return false;
    if ((await missingPackages(target.host, s.family, s.plan.installed)).length > 0) return false;
    if ((await filesToChange(target.host, [blacklistFile()])).length > 0 || !(await persistencedActive(target))) return false;
    const r = await smi(target, true);
    return judgeSmi(target.spec.name, r, s.plan.branch, s.loaded).ok;
  },
  async run(target, ctx) {
    const { host } = target;
    const s = await look(target, ctx);
    if (s.plan.kind === 'refuse') fail(s.plan);
    const plan = s.plan;
    // nouveau goes first, so the initramfs the driver packages may rebuild already leaves it out.
    const changed = await filesToChange(host, [blacklistFile()]);
    await placeFiles(host, changed);
    if ((await missingPackages(host, s.family, plan.installed)).length > 0) await installPackages(host, s.family, plan.install, 'gpu-driver');
    if (changed.length > 0 && plan.initramfs) await host.exec(plan.initramfs, { timeoutMs: 600_000 });
    await host.exec(['systemctl', 'enable', '--now', PERSISTENCED_UNIT]);
    const r = await smi(target, false);
    // A dry-run host marks what it only recorded; any real answer is judged, an empty one included.
    if (r.recorded) return;
    const verdict = judgeSmi(target.spec.name, r, plan.branch, s.loaded);
    if (!verdict.ok) fail(verdict);
  },
};
