// firewalld: where a site keeps firewalld running, the cluster's openings go through firewalld itself as ferry's
// policy and ipsets (render/firewalld.ts); ferry's own nft table (os-prepare) still loads, and a packet needs both
// to accept it. Where firewalld is not running there is nothing to do. reset-firewalld removes exactly ferry's
// files and reloads, so /etc/firewalld is as it was.
import { sh } from '../hosts/shell.ts';
import type { RenderedFile } from '../render/file.ts';
import { FIREWALLD_CONFIG_DIR, FIREWALLD_IPSET_PREFIX, FIREWALLD_POLICY, FIREWALLD_POLICY_PATH, firewalldRuntime, renderFirewalld } from '../render/firewalld.ts';
import { nftablesInput } from '../render/node-files.ts';
import { chooseEncapsulation, firewallEncapsulation } from './encapsulation.ts';
import { nodeFacts } from './node-facts.ts';
import { markedSections } from '../facts/sections.ts';
import { filesToChange, placementOrder } from './place-files.ts';
import type { ObserveTarget, Phase } from './phase.ts';
import { LOCAL_REGISTRY } from './render-inputs.ts';
import { exec, place, type Step } from './step.ts';

const IPSET_GLOB = `${FIREWALLD_CONFIG_DIR}/ipsets/${FIREWALLD_IPSET_PREFIX}*.xml`;
const RELOAD = ['firewall-cmd', '--reload'];

/** What the running firewall holds of ferry's: its policy's rich rules (none when it has no policy ferry) and each ipset's entries. */
export interface FirewalldRuntime {
  policy: boolean;
  rules: string[];
  ipsets: Record<string, string[]>;
}

/** What firewalld's part of the node looks like: running or not, ferry's files, the default zone, and what the running firewall holds. */
export interface FirewalldSnapshot {
  active: boolean;
  /** ferry's files present under /etc/firewalld (the policy and ferry-* ipsets). */
  present: string[];
  defaultZone: string | undefined;
  runtime: FirewalldRuntime;
}

/**
 * One read-only script: firewalld active, ferry's files, and (only while it runs) the default zone and the running
 * firewall's policy ferry and the ipsets named. The running config is what counts: `--permanent` answers from
 * firewalld's memory of the files at its last reload, not from the files.
 */
export function firewalldSnapshotScript(ipsets: readonly string[]) {
  const infos = ipsets.map((n) => sh`firewall-cmd --info-ipset=${n} 2>&1`.shell).join('; ');
  return sh`echo ==ferry:active==; systemctl is-active firewalld 2>/dev/null
echo ==ferry:present==; for f in ${FIREWALLD_POLICY_PATH} ${{ shell: IPSET_GLOB }}; do [ -e "$f" ] && echo "$f"; done
if [ "$(systemctl is-active firewalld 2>/dev/null)" = active ]; then
echo ==ferry:default-zone==; firewall-cmd --get-default-zone
echo ==ferry:runtime==; firewall-cmd --info-policy=${FIREWALLD_POLICY} 2>&1; ${{ shell: infos || 'true' }}
fi
true`;
}

/** The rich rules of a `--info-policy` answer and the entries of each `--info-ipset` answer that follows it. */
export function parseRuntime(text: string): FirewalldRuntime {
  const rules: string[] = [];
  const ipsets: Record<string, string[]> = {};
  let current: string | undefined;
  let policy = false;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) {
      const name = line.split(/\s+/)[0]!;
      if (name === FIREWALLD_POLICY) policy = true;
      current = name.startsWith(FIREWALLD_IPSET_PREFIX) ? name : undefined;
    } else if (line.trim().startsWith('rule ')) rules.push(line.trim());
    else if (current && line.trim().startsWith('entries:')) ipsets[current] = line.trim().slice('entries:'.length).split(/\s+/).filter(Boolean).sort();
  }
  return { policy, rules, ipsets };
}

/** Parses the snapshot script's output. */
export function parseFirewalldSnapshot(output: string): FirewalldSnapshot {
  const s = markedSections(output);
  const lines = (k: string) => (s.get(k) ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  return { active: lines('active')[0] === 'active', present: lines('present'), defaultZone: lines('default-zone')[0], runtime: parseRuntime(s.get('runtime') ?? '') };
}

/** What the firewalld phase sees on a node. */
export interface FirewalldSeen {
  snapshot: FirewalldSnapshot;
  /** ferry's files for this node. */
  wanted: RenderedFile[];
  /** Those of them whose content on the node differs (missing ones included). */
  changed: RenderedFile[];
  /** How the running firewall reports those files once loaded. */
  expected: ReturnType<typeof firewalldRuntime>;
}

/** Whether the running firewall holds exactly ferry's wanted policy and ipsets. */
export function runtimeMatches(runtime: FirewalldRuntime, expected: FirewalldSeen['expected']): boolean {
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  return runtime.policy && same(runtime.rules, expected.rules) && Object.entries(expected.ipsets).every(([n, e]) => same(runtime.ipsets[n] ?? [], e));
}

/** Nothing while firewalld is not running; else stale ferry files removed, changed ones placed (checked first), and a reload when anything changed or the running firewall differs. */
export function planFirewalld(seen: FirewalldSeen): Step[] {
  if (!seen.snapshot.active) return [];
  const stale = seen.snapshot.present.filter((p) => !seen.wanted.some((f) => f.path === p));
  const steps: Step[] = [];
  if (stale.length > 0) steps.push(exec(['rm', '-f', '--', ...stale]));
  steps.push(...place(...placementOrder(seen.changed)));
  if (steps.length > 0 || !runtimeMatches(seen.snapshot.runtime, seen.expected)) steps.push(exec(RELOAD));
  return steps;
}

/** Reset's plan: ferry's files removed, and firewalld reloaded while it runs with ferry's policy still loaded. */
export function planResetFirewalld(snapshot: FirewalldSnapshot): Step[] {
  const steps: Step[] = [];
  if (snapshot.present.length > 0) steps.push(exec(['rm', '-f', '--', ...snapshot.present]));
  if (snapshot.active && (steps.length > 0 || snapshot.runtime.policy)) steps.push(exec(RELOAD));
  return steps;
}

async function snapshotOf(target: ObserveTarget, ipsets: readonly string[]): Promise<FirewalldSnapshot> {
  return parseFirewalldSnapshot((await target.host.exec(firewalldSnapshotScript(ipsets))).stdout);
}

export const firewalldPhase: Phase<Record<string, unknown>, FirewalldSeen> = {
  id: 'firewalld',
  wholeCluster: true,
  title: "the cluster's ports through firewalld, where it runs (ferry's policy and ipsets)",
  undo: 'reset-firewalld',
  targets: (ctx) => ctx.inventory.hosts,
  async observe(target, ctx) {
    const facts = await nodeFacts(target, ctx.state);
    const input = nftablesInput({
      inventory: ctx.inventory, host: target.spec.name, registry: { ...LOCAL_REGISTRY, caPem: '' },
      encapsulation: firewallEncapsulation(chooseEncapsulation(ctx.inventory, ctx.state.doctorRecommendation)),
      ...(facts.adminAddress ? { adminAddress: facts.adminAddress } : {}),
    });
    const expected = firewalldRuntime(input);
    const snapshot = await snapshotOf(target, Object.keys(expected.ipsets));
    const wanted = renderFirewalld(input);
    return { snapshot, wanted, expected, changed: snapshot.active ? await filesToChange(target.host, wanted) : [] };
  },
  plan: (seen) => planFirewalld(seen),
};

export const resetFirewalldPhase: Phase<Record<string, unknown>, FirewalldSnapshot> = {
  id: 'reset-firewalld',
  title: "remove ferry's firewalld policy and ipsets, and reload firewalld",
  undo: { none: 'it is the undo of firewalld' },
  targets: (ctx) => ctx.inventory.hosts,
  observe: (target) => snapshotOf(target, []),
  plan: (seen) => planResetFirewalld(seen),
};
