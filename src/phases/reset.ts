// Reset phases: each undoes install phases (the install phase names it as its `undo`), and `ferry reset` runs them
// in reverse install order (undo.ts), so a node goes back to how it was before ferry: packages ferry added removed,
// files and ferry's nft table gone, units stopped. observe reads what is left (paths, the probe's lines, recorded
// packages still installed); plan is the removal, empty when nothing is left.
import type { Host } from '../hosts/host.ts';
import { sh, type ShellCommand } from '../hosts/shell.ts';
import { CONTAINERD_CONFIG_PATH } from '../render/containerd.ts';
import { CONTAINERD_CERTS_DIR } from '../render/containerd-hosts.ts';
import { HAPROXY_CONFIG_PATH } from '../render/haproxy.ts';
import { KEEPALIVED_CHECK_PATH, KEEPALIVED_CONFIG_PATH } from '../render/keepalived.ts';
import { MODULES_PATH } from '../render/modules.ts';
import { NFTABLES_PATH } from '../render/nftables.ts';
import { balancerHosts, registryHosts } from '../render/node-files.ts';
import { REGISTRY_ROOT, REGISTRY_UNIT } from '../render/registry.ts';
import { NODE_CA_PATH, REGISTRY_NODE_DIR, TRUST_ANCHORS, trustStorePlan } from '../registry/node-plan.ts';
import { REGISTRY_BINARY } from './local-registry.ts';
import { FSTAB_PATH } from '../render/swap.ts';
import { SYSCTL_PATH } from '../render/sysctl.ts';
import { NODE_BUNDLE_DIR } from './bundle-on-node.ts';
import { nodeFacts } from './node-facts.ts';
import { APT_LIST_PATH } from './os/debian.ts';
import { YUM_REPO_PATH } from './os/el.ts';
import { FERRY_STATE_DIR, installedListPath, type OsFamily } from './os/family.ts';
import { parseInstalled, pickFamily } from './os/pick.ts';
import { parseList } from './packages.ts';
import type { PhaseContext, Phase } from './phase.ts';
import { FIREWALL_UNIT } from './os-prepare.ts';
import { exec, type Step } from './step.ts';

// The marker render/swap.ts puts before a swap line it turned off.
const SWAP_MARK = '# ferry: swap off for kubelet: ';

/** fstab with the swap lines ferry commented out restored; `changed` says whether there were any. */
export function restoreSwapInFstab(fstab: string): { text: string; changed: boolean } {
  const text = fstab.split('\n').map((l) => (l.startsWith(SWAP_MARK) ? l.slice(SWAP_MARK.length) : l)).join('\n');
  return { text, changed: text !== fstab };
}

/** What a reset phase sees on a node. */
export interface ResetSeen {
  /** What is left of the install: paths that still exist and the probe's lines. Empty: nothing to undo. */
  left: string[];
  family: OsFamily;
  /** Whether the install phase's package record is on the node, and the recorded packages still installed. */
  recorded: boolean;
  packages: string[];
  /** The files the spec asked to read (`reads`), by path; undefined when absent. */
  files: Record<string, string | undefined>;
}

export interface ResetSpec {
  id: string;
  title: string;
  targets?: (ctx: PhaseContext) => PhaseContext['inventory']['hosts'];
  /** Files and directories the install phase left; all must be gone. */
  paths: readonly string[];
  /** Extra read-only probe that prints something while the phase's work is still there. */
  leftover?: ShellCommand;
  /** Units to stop and disable first. */
  units?: readonly string[];
  /** The install phase whose recorded packages are removed. */
  packagesOf?: string;
  /** Directories the install (or its packages) made, removed when empty, deepest first. */
  dirs?: readonly string[];
  /** Files observe reads for `before`/`after` (fstab, os-release). */
  reads?: readonly string[];
  /** Steps before packages are removed (a package hold). */
  before?: (seen: ResetSeen) => Step[];
  /** Steps after packages and paths are removed. */
  after?: (seen: ResetSeen) => Step[];
}

/** What is left of a phase on the node: paths that still exist and the probe's output (read-only). */
export function leftoverScript(spec: Pick<ResetSpec, 'paths' | 'leftover'>): ShellCommand {
  const tests = spec.paths.map((p) => sh`if test -e ${p}; then echo ${p}; fi`.shell);
  return { shell: [...tests, ...(spec.leftover ? [spec.leftover.shell] : []), 'true'].join('\n') };
}

/** The removal steps from what is left: units, `before`, recorded packages, paths, empty dirs, `after`; [] when nothing is left. */
export function planReset(spec: ResetSpec, seen: ResetSeen): Step[] {
  if (seen.left.length === 0) return [];
  const steps: Step[] = (spec.units ?? []).map((unit) => exec(sh`systemctl disable --now ${unit} 2>/dev/null || true`));
  steps.push(...(spec.before?.(seen) ?? []));
  if (spec.packagesOf && seen.recorded) {
    if (seen.packages.length > 0) {
      const remove = seen.family.remove(seen.packages);
      steps.push(exec(remove.argv, remove.env ? { env: remove.env } : {}));
    }
    steps.push(exec(['rm', '-f', installedListPath(spec.packagesOf)]));
  }
  if (spec.paths.length > 0) steps.push(exec(['rm', '-rf', '--', ...spec.paths]));
  for (const dir of spec.dirs ?? []) steps.push(exec(sh`if test -d ${dir}; then rmdir --ignore-fail-on-non-empty -- ${dir}; fi`));
  steps.push(...(spec.after?.(seen) ?? []));
  return steps;
}

async function readOrUndefined(host: Host, path: string): Promise<string | undefined> {
  try {
    return (await host.readFile(path)).toString('utf8');
  } catch {
    return undefined;
  }
}

/** A reset phase from what its install phase left behind (shared by the Kubernetes and GPU resets in their own files). */
export function resetPhase(spec: ResetSpec): Phase<Record<string, unknown>, ResetSeen> {
  const paths = spec.packagesOf ? [...spec.paths, installedListPath(spec.packagesOf)] : spec.paths;
  return {
    id: spec.id,
    title: spec.title,
    undo: { none: 'it is the undo of install phases' },
    targets: spec.targets ?? ((ctx) => ctx.inventory.hosts),
    async observe(target, ctx) {
      const { host } = target;
      const family = pickFamily(target.spec.name, await nodeFacts(target, ctx.state));
      const left = (await host.exec(leftoverScript({ paths, leftover: spec.leftover }))).stdout.split('\n').map((l) => l.trim()).filter(Boolean);
      const seen: ResetSeen = { left, family, recorded: false, packages: [], files: {} };
      if (left.length === 0) return seen;
      if (spec.packagesOf) {
        const list = await host.exec(['cat', installedListPath(spec.packagesOf)], { allowFailure: true });
        if (list.exitCode === 0) {
          // Held packages count: reset unholds them (kubernetes-packages' before) just before it removes them.
          const have = parseInstalled((await host.exec(family.listInstalled())).stdout, { held: true });
          seen.recorded = true;
          seen.packages = parseList(list.stdout).filter((p) => have.has(p));
        }
      }
      for (const path of spec.reads ?? []) seen.files[path] = await readOrUndefined(host, path);
      return seen;
    },
    plan: (seen) => planReset(spec, seen),
  };
}

const daemonReload = (): Step[] => [exec(['systemctl', 'daemon-reload'])];

export const RESET_SPECS: ResetSpec[] = [
  {
    id: 'reset-registry-mirrors',
    title: "remove ferry's CA from the trust store, containerd's hosts.toml files and the curl it installed",
    paths: [CONTAINERD_CERTS_DIR, NODE_CA_PATH, ...TRUST_ANCHORS],
    packagesOf: 'registry-mirrors',
    dirs: [REGISTRY_NODE_DIR, '/etc/ferry'],
    reads: ['/etc/os-release'],
    after(seen) {
      // Debian's update-ca-certificates keeps the links of a removed anchor unless it rebuilds /etc/ssl/certs.
      const trust = trustStorePlan(seen.files['/etc/os-release'] ?? '');
      return [exec(trust.update[0] === 'update-ca-certificates' ? [...trust.update, '--fresh'] : trust.update)];
    },
  },
  {
    id: 'reset-registry',
    title: 'stop and remove the local registry (unit, binary, config, TLS files, data)',
    targets: (ctx) => registryHosts(ctx.inventory),
    units: [REGISTRY_UNIT],
    paths: [`/etc/systemd/system/${REGISTRY_UNIT}`, REGISTRY_BINARY, REGISTRY_NODE_DIR, REGISTRY_ROOT],
    dirs: ['/etc/ferry'],
    after: daemonReload,
  },
  {
    id: 'reset-load-balancer',
    title: 'stop and remove HAProxy and keepalived',
    targets: (ctx) => (ctx.inventory.network.loadBalancer === 'vip' ? balancerHosts(ctx.inventory) : ctx.inventory.hosts),
    units: ['keepalived', 'haproxy'],
    packagesOf: 'load-balancer',
    paths: [HAPROXY_CONFIG_PATH, KEEPALIVED_CONFIG_PATH, KEEPALIVED_CHECK_PATH, '/etc/systemd/system/haproxy.service.d/10-ferry.conf'],
    dirs: ['/etc/systemd/system/haproxy.service.d', '/etc/keepalived', '/etc/haproxy'],
    after: daemonReload,
  },
  {
    id: 'reset-container-runtime',
    title: 'stop and remove containerd and runc',
    units: ['containerd'],
    packagesOf: 'container-runtime',
    paths: [CONTAINERD_CONFIG_PATH],
    // certs.d is reset-registry-mirrors' (it runs first); containerd's CRI plugin makes /etc/cni/net.d when it starts.
    dirs: ['/etc/containerd', '/etc/cni/net.d', '/etc/cni'],
  },
  {
    id: 'reset-os-prepare',
    title: "remove ferry's firewall table, modules and sysctl files; restore swap in fstab",
    units: [FIREWALL_UNIT],
    paths: [`/etc/systemd/system/${FIREWALL_UNIT}`, NFTABLES_PATH, MODULES_PATH, SYSCTL_PATH],
    dirs: ['/etc/nftables.d'],
    leftover: sh`nft list table inet ferry >/dev/null 2>&1 && echo table; grep -q ${`^${SWAP_MARK}`} ${FSTAB_PATH} && echo fstab; true`,
    reads: [FSTAB_PATH],
    after(seen) {
      const fstab = seen.files[FSTAB_PATH];
      const restored = fstab === undefined ? undefined : restoreSwapInFstab(fstab);
      return [
        ...daemonReload(),
        exec(sh`nft delete table inet ferry 2>/dev/null || true`),
        ...(restored?.changed ? [{ kind: 'write', path: FSTAB_PATH, content: restored.text, mode: 0o644 } as const] : []),
      ];
    },
  },
  {
    id: 'reset-local-repo',
    title: "remove the bundle's repository file and apt's lists of it",
    paths: [APT_LIST_PATH, YUM_REPO_PATH],
    leftover: { shell: 'ls /var/lib/apt/lists/ 2>/dev/null | grep "^_var_lib_ferry_"; true' },
    after: () => [exec({ shell: 'rm -f /var/lib/apt/lists/_var_lib_ferry_*' })],
  },
  { id: 'reset-copy-bundle', title: "remove the bundle's copy and ferry's state on the node", paths: [NODE_BUNDLE_DIR, FERRY_STATE_DIR] },
];

export const resetPhases = RESET_SPECS.map(resetPhase);
