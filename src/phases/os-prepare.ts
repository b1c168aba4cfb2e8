// os-prepare: swap off (now and in fstab), kernel modules and sysctls persisted and applied, ferry's nftables
// table loaded by its own unit, SELinux permissive on EL. Decided from one read-only snapshot (os-prepare-plan.ts).
import { UserError } from '../errors.ts';
import { renderedFile, type RenderedFile } from '../render/file.ts';
import { MODULES_PATH } from '../render/modules.ts';
import { NFTABLES_PATH } from '../render/nftables.ts';
import { disableSwapInFstab, swapOffArgv } from '../render/swap.ts';
import { KUBERNETES_SYSCTLS, SYSCTL_PATH } from '../render/sysctl.ts';
import { nodeFacts } from './node-facts.ts';
import { pickFamily } from './os/pick.ts';
import { parseSnapshot, permissiveSelinuxConfig, planSysctls, snapshotScript, type Snapshot } from './os-prepare-plan.ts';
import { filesToChange, placeFiles } from './place-files.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { nodeFiles } from './render-inputs.ts';

export const FIREWALL_UNIT = 'ferry-firewall.service';
const FIREWALL_UNIT_PATH = `/etc/systemd/system/${FIREWALL_UNIT}`;
const SELINUX_CONFIG = '/etc/selinux/config';

interface Prepared {
  files: RenderedFile[];
  modules: string[];
  snapshot: Snapshot;
  changed: RenderedFile[];
}

/** Warnings a run collects (read-only sysctls and the like), printed by the CLI at the end. */
export function runWarnings(ctx: PhaseContext): string[] {
  return ctx.state.warnings;
}

async function prepare(target: PhaseTarget, ctx: PhaseContext): Promise<Prepared> {
  const facts = await nodeFacts(target, ctx.state);
  const family = pickFamily(target.spec.name, facts);
  const rendered = nodeFiles(ctx, target.spec.name, facts);
  const files = rendered.filter((f) => [SYSCTL_PATH, MODULES_PATH, NFTABLES_PATH, FIREWALL_UNIT_PATH].includes(f.path));
  const modules = files.find((f) => f.path === MODULES_PATH)!.content.split('\n').filter((l) => l && !l.startsWith('#'));
  const r = await target.host.exec(snapshotScript(modules, Object.keys(KUBERNETES_SYSCTLS)), { readOnly: true });
  const snapshot = parseSnapshot(r.stdout);
  const fstab = disableSwapInFstab(snapshot.fstab);
  if (fstab.changed) files.push(fstab.file);
  if (family.selinux && snapshot.selinuxConfig) {
    const se = permissiveSelinuxConfig(snapshot.selinuxConfig);
    if (se.changed) files.push(renderedFile(SELINUX_CONFIG, `${se.text}\n`));
  }
  return { files, modules, snapshot, changed: await filesToChange(target.host, files) };
}

function nothingToDo(p: Prepared): boolean {
  const s = p.snapshot;
  const sys = planSysctls(s, KUBERNETES_SYSCTLS);
  return !s.swapActive && p.changed.length === 0 && [...s.modules.values()].every(Boolean) && sys.set.length === 0 && sys.missing.length === 0
    && s.nftTable && s.unitEnabled && s.selinux !== 'enforcing';
}

export const osPreparePhase: Phase = {
  id: 'os-prepare',
  wholeCluster: true,
  title: 'swap off, kernel modules, sysctls, firewall table, SELinux',
  undo: 'reset-os-prepare',
  targets: (ctx) => ctx.inventory.hosts,
  async isDone(target, ctx) {
    return nothingToDo(await prepare(target, ctx));
  },
  async run(target, ctx) {
    const { host, spec } = target;
    const p = await prepare(target, ctx);
    await placeFiles(host, p.changed);
    if (p.snapshot.swapActive) await host.exec(swapOffArgv());
    if (p.snapshot.selinux === 'enforcing') await host.exec(['setenforce', '0']);
    for (const m of p.modules.filter((m) => !p.snapshot.modules.get(m))) {
      const r = await host.exec(['modprobe', m], { allowFailure: true });
      if (r.exitCode !== 0) throw new UserError(`${spec.name}: cannot load kernel module ${m}: it is neither loaded nor built into the kernel, and modprobe said: ${r.stderr.trim()}`, {
        hint: `install the kernel's modules package for $(uname -r) on ${spec.name}, or load ${m} by hand`,
      });
    }
    // Modules can create sysctls (br_netfilter's net.bridge.*): plan against a fresh look.
    const again = parseSnapshot((await host.exec(snapshotScript(p.modules, Object.keys(KUBERNETES_SYSCTLS)), { readOnly: true })).stdout);
    const sys = planSysctls(again, KUBERNETES_SYSCTLS);
    if (sys.missing.length > 0) throw new UserError(`${spec.name}: the kernel has no ${sys.missing.join(', ')}`);
    if (sys.set.length > 0) await host.exec(['sysctl', '-q', '-w', ...sys.set]);
    for (const w of sys.readOnly) runWarnings(ctx).push(`${spec.name}: sysctl ${w}, and /proc/sys is read-only here (set it on the host that owns the kernel)`);
    const unitChanged = p.changed.some((f) => f.path === FIREWALL_UNIT_PATH);
    if (unitChanged) await host.exec(['systemctl', 'daemon-reload']);
    if (!p.snapshot.unitEnabled) await host.exec(['systemctl', 'enable', FIREWALL_UNIT]);
    if (unitChanged || !p.snapshot.nftTable || p.changed.some((f) => f.path === NFTABLES_PATH)) await host.exec(['systemctl', 'restart', FIREWALL_UNIT]);
  },
};
