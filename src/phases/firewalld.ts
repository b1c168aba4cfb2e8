// firewalld: where a site keeps firewalld running, the cluster's openings go through firewalld itself as ferry's
// policy and ipsets (render/firewalld.ts); ferry's own nft table (os-prepare) still loads, and a packet needs both
// to accept it. Where firewalld is not running there is nothing to do. reset-firewalld removes exactly ferry's
// files and reloads, so /etc/firewalld is as it was.
import { sh } from '../hosts/shell.ts';
import type { RenderedFile } from '../render/file.ts';
import { FIREWALLD_CONFIG_DIR, FIREWALLD_IPSET_PREFIX, FIREWALLD_POLICY, FIREWALLD_POLICY_PATH, renderFirewalld } from '../render/firewalld.ts';
import { nftablesInput } from '../render/node-files.ts';
import { chooseEncapsulation, firewallEncapsulation } from './encapsulation.ts';
import { nodeFacts } from './node-facts.ts';
import { markedSections } from './parse-node-facts.ts';
import { filesToChange, placementOrder } from './place-files.ts';
import type { ObserveTarget, PlanPhase } from './phase.ts';
import { LOCAL_REGISTRY } from './render-inputs.ts';
import { exec, place, type Step } from './step.ts';

const IPSET_GLOB = `${FIREWALLD_CONFIG_DIR}/ipsets/${FIREWALLD_IPSET_PREFIX}*.xml`;
const RELOAD = ['firewall-cmd', '--reload'];

/** What firewalld's part of the node looks like: running or not, ferry's files, and whether the running firewall has them loaded. */
export interface FirewalldSnapshot {
  active: boolean;
  /** ferry's files present under /etc/firewalld (the policy and ferry-* ipsets). */
  present: string[];
  defaultZone: string | undefined;
  /** The running firewall's ferry policy and ipsets equal their permanent (file) config. */
  loaded: boolean;
}

/** One read-only script for the snapshot; firewall-cmd runs only when firewalld is active. */
export function firewalldSnapshotScript() {
  const info = (permanent: string) =>
    `firewall-cmd ${permanent}--info-policy=${FIREWALLD_POLICY} 2>&1; for f in ${IPSET_GLOB}; do [ -e "$f" ] || continue; n=\${f##*/}; firewall-cmd ${permanent}--info-ipset="\${n%.xml}" 2>&1; done`;
  return sh`echo ==ferry:active==; systemctl is-active firewalld 2>/dev/null
echo ==ferry:present==; for f in ${FIREWALLD_POLICY_PATH} ${{ shell: IPSET_GLOB }}; do [ -e "$f" ] && echo "$f"; done
if [ "$(systemctl is-active firewalld 2>/dev/null)" = active ]; then
echo ==ferry:default-zone==; firewall-cmd --get-default-zone
echo ==ferry:runtime==; ${{ shell: info('') }}
echo ==ferry:permanent==; ${{ shell: info('--permanent ') }}
fi
true`;
}

/** Parses the snapshot script's output. */
export function parseFirewalldSnapshot(output: string): FirewalldSnapshot {
  const s = markedSections(output);
  const lines = (k: string) => (s.get(k) ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  const active = lines('active')[0] === 'active';
  return {
    active,
    present: lines('present'),
    defaultZone: lines('default-zone')[0],
    loaded: active && s.get('runtime') === s.get('permanent'),
  };
}

/** What the firewalld phase sees on a node. */
export interface FirewalldSeen {
  snapshot: FirewalldSnapshot;
  /** ferry's files for this node. */
  wanted: RenderedFile[];
  /** Those of them whose content on the node differs (missing ones included). */
  changed: RenderedFile[];
}

/** Nothing while firewalld is not running; else stale ferry files removed, changed ones placed (checked first), and a reload when anything changed or the running firewall lacks them. */
export function planFirewalld(seen: FirewalldSeen): Step[] {
  if (!seen.snapshot.active) return [];
  const stale = seen.snapshot.present.filter((p) => !seen.wanted.some((f) => f.path === p));
  const steps: Step[] = [];
  if (stale.length > 0) steps.push(exec(['rm', '-f', '--', ...stale]));
  steps.push(...place(...placementOrder(seen.changed)));
  if (steps.length > 0 || !seen.snapshot.loaded) steps.push(exec(RELOAD));
  return steps;
}

/** Reset's plan: ferry's files removed, and firewalld reloaded when it runs with something of ferry's still loaded. */
export function planResetFirewalld(snapshot: FirewalldSnapshot & { runtimeHasFerry: boolean }): Step[] {
  const steps: Step[] = [];
  if (snapshot.present.length > 0) steps.push(exec(['rm', '-f', '--', ...snapshot.present]));
  if (snapshot.active && (steps.length > 0 || snapshot.runtimeHasFerry)) steps.push(exec(RELOAD));
  return steps;
}

async function snapshotOf(target: ObserveTarget): Promise<{ snapshot: FirewalldSnapshot; output: string }> {
  const r = await target.host.exec(firewalldSnapshotScript(), { readOnly: true });
  return { snapshot: parseFirewalldSnapshot(r.stdout), output: r.stdout };
}

export const firewalldPhase: PlanPhase<Record<string, unknown>, FirewalldSeen> = {
  id: 'firewalld',
  wholeCluster: true,
  title: "the cluster's ports through firewalld, where it runs (ferry's policy and ipsets)",
  undo: 'reset-firewalld',
  targets: (ctx) => ctx.inventory.hosts,
  async observe(target, ctx) {
    const { snapshot } = await snapshotOf(target);
    if (!snapshot.active) return { snapshot, wanted: [], changed: [] };
    const facts = await nodeFacts(target, ctx.state);
    const wanted = renderFirewalld(nftablesInput({
      inventory: ctx.inventory, host: target.spec.name, registry: { ...LOCAL_REGISTRY, caPem: '' },
      encapsulation: firewallEncapsulation(chooseEncapsulation(ctx.inventory, ctx.state.doctorRecommendation)),
      ...(facts.adminAddress ? { adminAddress: facts.adminAddress } : {}),
    }));
    return { snapshot, wanted, changed: await filesToChange(target.host, wanted) };
  },
  plan: (seen) => planFirewalld(seen),
};

export const resetFirewalldPhase: PlanPhase<Record<string, unknown>, FirewalldSnapshot & { runtimeHasFerry: boolean }> = {
  id: 'reset-firewalld',
  title: "remove ferry's firewalld policy and ipsets, and reload firewalld",
  targets: (ctx) => ctx.inventory.hosts,
  async observe(target) {
    const { snapshot, output } = await snapshotOf(target);
    // The running firewall still holds ferry's policy while its runtime answer is not firewalld's "invalid policy".
    const runtime = markedSections(output).get('runtime') ?? '';
    return { ...snapshot, runtimeHasFerry: snapshot.active && !/INVALID_POLICY/.test(runtime) };
  },
  plan: (seen) => planResetFirewalld(seen),
};
