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
import { installedPackages, installStep } from './packages.ts';
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
  /** Debian: NVIDIA's branch-pinning packages installed for another branch than the locked one (an upgrade to a new
   * branch finds the old one's). Absent: none. */
  otherBranchPins?: string[];
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
  // A new branch over an old one (an upgrade): the old branch's pin holds every driver package at its version (apt
  // reads the preferences before the transaction, so the new pin installed with the packages does not count yet),
  // and the driver packages are installed by name already. So the old pin goes first, then every package of the plan
  // is installed again: with no pin in force apt takes the newest, the new branch, and the new pin holds it after.
  const pins = s.otherBranchPins ?? [];
  if (pins.length > 0) {
    const remove = s.family.remove(pins);
    steps.push(exec(remove.argv, remove.env ? { env: remove.env } : {}));
  }
  if (s.missing.length > 0 || pins.length > 0) steps.push(installStep(s.family, plan.install, 'gpu-driver'));
  if (s.blacklistChanged && plan.initramfs) steps.push(exec(plan.initramfs, { timeoutMs: 600_000 }));
  if (!s.persistenced.enabled || !s.persistenced.active) steps.push(exec(['systemctl', 'enable', '--now', PERSISTENCED_UNIT]));
  if (steps.length > 0) return steps;
  const verdict = judgeSmi(s.host, s.smi, plan.branch, s.loaded);
  if (!verdict.ok) fail(verdict);
  return [];
}

/** Installed `nvidia-driver-pinning-<B>` packages (NVIDIA's Debian repository) whose branch B is not `branch`. */
export function otherBranchPins(installed: Iterable<string>, branch: number): string[] {
  const own = `nvidia-driver-pinning-${branch}`;
  return [...installed].filter((p) => /^nvidia-driver-pinning-\d+$/.test(p) && p !== own).sort();
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
    const have = driver.kind === 'refuse' ? new Set<string>() : await installedPackages(host, family);
    const pins = driver.kind === 'refuse' || family.id !== 'debian' ? [] : otherBranchPins(have, driver.branch);
    return {
      host: target.spec.name, family, driver, loaded: probe.loaded,
      missing: driver.kind === 'refuse' ? [] : driver.installed.filter((p) => !have.has(p)),
      ...(pins.length > 0 ? { otherBranchPins: pins } : {}),
      blacklistChanged: (await filesToChange(host, [blacklistFile()])).length > 0,
      persistenced: { enabled: await unit('is-enabled', 'enabled'), active: await unit('is-active', 'active') },
      smi: { exitCode: smi.exitCode, stdout: smi.stdout, stderr: smi.stderr },
    };
  },
  plan: (seen) => planGpuDriver(seen),
};
