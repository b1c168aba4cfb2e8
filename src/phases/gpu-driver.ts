// gpu-driver: the NVIDIA driver of the locked branch for the exact kernel a GPU node runs (precompiled module when
// the bundle has one, else DKMS with that kernel's headers, else a refusal before anything changes), nouveau
// blacklisted with the initramfs rebuilt, nvidia-persistenced enabled, the NVIDIA Container Toolkit, and a check
// that nvidia-smi answers with the locked branch. A reboot is never done here: when an old module holds the GPU
// the phase fails and says to reboot that node and run again.
import { carriedDriver } from '../bundle/gpu-drivers.ts';
import { UserError } from '../errors.ts';
import { planDriver, NOUVEAU_BLACKLIST, NOUVEAU_BLACKLIST_PATH, type DriverPlan } from '../gpu/driver-plan.ts';
import { gpuProbeScript, parseGpuProbe } from '../gpu/gpu-facts.ts';
import { judgeSmi, SMI_QUERY, type SmiResult } from '../gpu/smi-verdict.ts';
import { renderedFile } from '../render/file.ts';
import { bundleManifest, checkBundleAgainstLock } from './bundle-manifest.ts';
import { nodeRepoDir } from './bundle-on-node.ts';
import { nodeFacts } from './node-facts.ts';
import type { OsFamily } from './os/family.ts';
import { pickFamily } from './os/pick.ts';
import { installStep, missingPackages } from './packages.ts';
import { filesToChange } from './place-files.ts';
import type { PhaseContext, Phase } from './phase.ts';
import { nodeLock } from './node-lock.ts';
import { exec, place, type Step } from './step.ts';

export const PERSISTENCED_UNIT = 'nvidia-persistenced';
const blacklistFile = () => renderedFile(NOUVEAU_BLACKLIST_PATH, NOUVEAU_BLACKLIST);

/** Hosts with role gpu. */
export function gpuHosts(ctx: PhaseContext) {
  return ctx.inventory.hosts.filter((h) => h.roles.includes('gpu'));
}

/** What gpu-driver sees on a GPU node. */
export interface DriverSeen {
  host: string;
  family: OsFamily;
  /** The driver plan for this node's kernel and what the bundle's repository on it offers. */
  driver: DriverPlan;
  /** The version of the nvidia module loaded now, if any. */
  loaded: string | undefined;
  /** Packages of the plan that are not installed. */
  missing: string[];
  blacklistChanged: boolean;
  persistenced: { enabled: boolean; active: boolean };
  /** nvidia-smi's answer now. */
  smi: SmiResult;
}

// The runner reports each failed host by its message alone, so the fix goes into the message too.
function fail(v: { reason: string; hint: string }): never {
  throw new UserError(`${v.reason}: ${v.hint}`, { hint: v.hint });
}

/**
 * The steps from what was seen: nouveau blacklisted first (so the initramfs the driver packages may rebuild leaves it
 * out), the packages, the initramfs, nvidia-persistenced. With nothing left to do, nvidia-smi must answer with the
 * locked branch, or the phase fails saying why (an old module loaded: reboot that node).
 */
export function planGpuDriver(s: DriverSeen): Step[] {
  if (s.driver.kind === 'refuse') fail(s.driver);
  const plan = s.driver;
  const steps: Step[] = [];
  if (s.blacklistChanged) steps.push(...place(blacklistFile()));
  if (s.missing.length > 0) steps.push(installStep(s.family, plan.install, 'gpu-driver'));
  if (s.blacklistChanged && plan.initramfs) steps.push(exec(plan.initramfs, { timeoutMs: 600_000 }));
  if (!s.persistenced.enabled || !s.persistenced.active) steps.push(exec(['systemctl', 'enable', '--now', PERSISTENCED_UNIT]));
  if (steps.length > 0) return steps;
  const verdict = judgeSmi(s.host, s.smi, plan.branch, s.loaded);
  if (!verdict.ok) fail(verdict);
  return [];
}

export const gpuDriverPhase: Phase<Record<string, unknown>, DriverSeen> = {
  id: 'gpu-driver',
  title: 'NVIDIA driver for the running kernel, container toolkit, nouveau off',
  undo: 'reset-gpu-driver',
  check: (ctx) => checkBundleAgainstLock(ctx, 'gpu-driver'),
  targets: gpuHosts,
  async observe(target, ctx) {
    const { host } = target;
    const facts = await nodeFacts(target, ctx.state);
    const family = pickFamily(target.spec.name, facts);
    // The node's own OS release of the lock (a mixed cluster's bundle carries several).
    const lock = await nodeLock(target, ctx);
    const manifest = await bundleManifest(ctx);
    const repoDir = nodeRepoDir(manifest, lock.stack.os);
    if (!repoDir) throw new UserError(`the bundle has no package repository for ${lock.stack.os.id} ${lock.stack.os.version}`);
    const probe = parseGpuProbe((await host.exec(gpuProbeScript(family.id, repoDir))).stdout);
    const node = { host: target.spec.name, family: family.id, osMajor: Number(facts.os.versionId.split('.')[0]), kernel: facts.kernel, machine: facts.machine, gpus: probe.gpus, initramfs: probe.initramfs };
    const driver = planDriver(node, lock.stack, probe.offered, carriedDriver(manifest, lock, facts.kernel)?.kind);
    const unit = async (verb: string, want: string) => (await host.exec(['systemctl', verb, PERSISTENCED_UNIT], { allowFailure: true })).stdout.trim() === want;
    const smi = await host.exec(SMI_QUERY, { allowFailure: true, timeoutMs: 60_000 });
    return {
      host: target.spec.name, family, driver, loaded: probe.loaded,
      missing: driver.kind === 'refuse' ? [] : await missingPackages(host, family, driver.installed),
      blacklistChanged: (await filesToChange(host, [blacklistFile()])).length > 0,
      persistenced: { enabled: await unit('is-enabled', 'enabled'), active: await unit('is-active', 'active') },
      smi: { exitCode: smi.exitCode, stdout: smi.stdout, stderr: smi.stderr },
    };
  },
  plan: (seen) => planGpuDriver(seen),
};
