// os-prepare: swap off (now and in fstab), kernel modules and sysctls persisted and applied, ferry's nftables
// table loaded by its own unit, SELinux permissive on EL. Observed in one read-only snapshot (os-prepare-plan.ts);
// planned by planPrepare, a pure function of that snapshot.
import { UserError } from '../errors.ts';
import { renderedFile, type RenderedFile } from '../render/file.ts';
import { MODULES_PATH } from '../render/modules.ts';
import { NFTABLES_PATH } from '../render/nftables.ts';
import { disableSwapInFstab, swapOffArgv } from '../render/swap.ts';
import { KUBERNETES_SYSCTLS, SYSCTL_PATH } from '../render/sysctl.ts';
import { nodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import { selinuxPolicyOf, type SelinuxPolicy } from '../config/inventory.ts';
import { CONTAINER_SELINUX, parseSnapshot, planSelinux, planSysctls, snapshotScript, type Snapshot } from './os-prepare-plan.ts';
import type { OsFamily } from './os/family.ts';
import { installStep, missingPackages } from './packages.ts';
import { filesToChange, placementOrder } from './place-files.ts';
import type { PhaseContext, Phase } from './phase.ts';
import { nodeFiles } from './render-inputs.ts';
import { exec, place, type Step } from './step.ts';

export const FIREWALL_UNIT = 'ferry-firewall.service';
const FIREWALL_UNIT_PATH = `/etc/systemd/system/${FIREWALL_UNIT}`;
const SELINUX_CONFIG = '/etc/selinux/config';

/** What os-prepare sees on a node. */
export interface PrepareSeen {
  host: string;
  /** The kernel modules ferry's modules file names. */
  modules: string[];
  snapshot: Snapshot;
  /** Files (sysctl, modules, nftables, the firewall unit, fstab) whose content on the node differs. */
  changed: RenderedFile[];
  family: OsFamily;
  /** The inventory's SELinux policy for this node. */
  selinuxPolicy: SelinuxPolicy;
  /** Packages the policy needs that are not installed (container-selinux under `selinux: enforcing`). */
  selinuxMissing: string[];
}

/** Warnings a run collects (read-only sysctls and the like), printed by the CLI at the end. */
export function runWarnings(ctx: PhaseContext): string[] {
  return ctx.state.warnings;
}

/**
 * The steps from one snapshot: files first, swap off, SELinux permissive, missing modules loaded, then every
 * sysctl that differs (including those a module about to be loaded creates), and the firewall unit (re)started.
 */
export function planPrepare(s: PrepareSeen): Step[] {
  const snap = s.snapshot;
  const se = s.family.selinux ? planSelinux(s.selinuxPolicy, snap, s.host) : { packages: [] };
  const files = [...s.changed, ...(se.config !== undefined ? [renderedFile(SELINUX_CONFIG, `${se.config}\n`)] : [])];
  const steps: Step[] = [...place(...placementOrder(files))];
  if (snap.swapActive) steps.push(exec(swapOffArgv()));
  if (se.setenforce) steps.push(exec(['setenforce', se.setenforce]));
  const sePackages = se.packages.filter((p) => s.selinuxMissing.includes(p));
  if (sePackages.length > 0) steps.push(installStep(s.family, sePackages, 'os-prepare'));
  if (se.warning) steps.push({ kind: 'warn', message: se.warning });
  const load = s.modules.filter((m) => !snap.modules.get(m));
  for (const m of load) steps.push(exec(['modprobe', m]));
  const sys = planSysctls(snap, KUBERNETES_SYSCTLS);
  // Modules create sysctls (br_netfilter's net.bridge.*): with a module still to load, a missing key is set after it.
  if (sys.missing.length > 0 && load.length === 0) throw new UserError(`${s.host}: the kernel has no ${sys.missing.join(', ')}`);
  const set = [...sys.set, ...(load.length > 0 ? sys.missing.map((k) => `${k}=${KUBERNETES_SYSCTLS[k]}`) : [])];
  if (set.length > 0) steps.push(exec(['sysctl', '-q', '-w', ...set]));
  for (const w of sys.readOnly) steps.push({ kind: 'warn', message: `${s.host}: sysctl ${w}, and /proc/sys is read-only here (set it on the host that owns the kernel)` });
  const unitChanged = s.changed.some((f) => f.path === FIREWALL_UNIT_PATH);
  if (unitChanged) steps.push(exec(['systemctl', 'daemon-reload']));
  if (!snap.unitEnabled) steps.push(exec(['systemctl', 'enable', FIREWALL_UNIT]));
  if (unitChanged || !snap.nftTable || s.changed.some((f) => f.path === NFTABLES_PATH)) steps.push(exec(['systemctl', 'restart', FIREWALL_UNIT]));
  return steps;
}

export const osPreparePhase: Phase<Record<string, unknown>, PrepareSeen> = {
  id: 'os-prepare',
  wholeCluster: true,
  title: 'swap off, kernel modules, sysctls, firewall table, SELinux',
  undo: 'reset-os-prepare',
  targets: (ctx) => ctx.inventory.hosts,
  async observe(target, ctx) {
    const facts = await nodeFacts(target, ctx.state);
    const family = pickFamily(target.spec.name, facts);
    const files = nodeFiles(ctx, target.spec.name, facts).filter((f) => [SYSCTL_PATH, MODULES_PATH, NFTABLES_PATH, FIREWALL_UNIT_PATH].includes(f.path));
    const modules = files.find((f) => f.path === MODULES_PATH)!.content.split('\n').filter((l) => l && !l.startsWith('#'));
    const snapshot = parseSnapshot((await target.host.exec(snapshotScript(modules, Object.keys(KUBERNETES_SYSCTLS)))).stdout);
    const fstab = disableSwapInFstab(snapshot.fstab);
    if (fstab.changed) files.push(fstab.file);
    const selinuxPolicy = selinuxPolicyOf(ctx.inventory, target.spec.name);
    const selinuxMissing = family.selinux && selinuxPolicy === 'enforcing' ? await missingPackages(target.host, family, [CONTAINER_SELINUX]) : [];
    return { host: target.spec.name, modules, snapshot, changed: await filesToChange(target.host, files), family, selinuxPolicy, selinuxMissing };
  },
  plan: (seen) => planPrepare(seen),
};
