// Reset phases: each undoes one install phase, in reverse order, so a node goes back to how it was before ferry
// (packages ferry added removed, files and ferry's nft table gone, units stopped). isDone is true when nothing of
// the phase is left on the node.
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
import { FERRY_STATE_DIR, installedListPath } from './os/family.ts';
import { pickFamily } from './os/pick.ts';
import { removeRecordedPackages } from './packages.ts';
import type { Phase, PhaseContext, PhaseTarget } from './phase.ts';
import { FIREWALL_UNIT } from './os-prepare.ts';

// The marker render/swap.ts puts before a swap line it turned off.
const SWAP_MARK = '# ferry: swap off for kubelet: ';

/** fstab with the swap lines ferry commented out restored; `changed` says whether there were any. */
export function restoreSwapInFstab(fstab: string): { text: string; changed: boolean } {
  const text = fstab.split('\n').map((l) => (l.startsWith(SWAP_MARK) ? l.slice(SWAP_MARK.length) : l)).join('\n');
  return { text, changed: text !== fstab };
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
  /** Anything to undo before packages are removed (a package hold). */
  before?: (host: Host, target: PhaseTarget, ctx: PhaseContext) => Promise<void>;
  /** Anything else to undo, after packages are removed. */
  after?: (host: Host) => Promise<void>;
}

/** What is left of a phase on the node: paths that still exist and the probe's output (read-only). */
export function leftoverScript(spec: Pick<ResetSpec, 'paths' | 'leftover'>): ShellCommand {
  const tests = spec.paths.map((p) => sh`if test -e ${p}; then echo ${p}; fi`.shell);
  return { shell: [...tests, ...(spec.leftover ? [spec.leftover.shell] : []), 'true'].join('\n') };
}

/** A reset phase from what its install phase left behind (shared by the GPU resets in their own files). */
export function resetPhase(spec: ResetSpec): Phase {
  const paths = spec.packagesOf ? [...spec.paths, installedListPath(spec.packagesOf)] : spec.paths;
  return {
    id: spec.id,
    title: spec.title,
    targets: spec.targets ?? ((ctx) => ctx.inventory.hosts),
    async isDone(target) {
      return (await target.host.exec(leftoverScript({ paths, leftover: spec.leftover }), { readOnly: true })).stdout.trim() === '';
    },
    async run(target: PhaseTarget, ctx: PhaseContext) {
      const { host } = target;
      for (const unit of spec.units ?? []) await host.exec(sh`systemctl disable --now ${unit} 2>/dev/null || true`);
      await spec.before?.(host, target, ctx);
      if (spec.packagesOf) await removeRecordedPackages(host, pickFamily(target.spec.name, await nodeFacts(target, ctx.state)), spec.packagesOf);
      if (spec.paths.length > 0) await host.exec(['rm', '-rf', '--', ...spec.paths]);
      for (const dir of spec.dirs ?? []) await host.exec(sh`if test -d ${dir}; then rmdir --ignore-fail-on-non-empty -- ${dir}; fi`);
      await spec.after?.(host);
    },
  };
}

const daemonReload = async (host: Host) => {
  await host.exec(['systemctl', 'daemon-reload']);
};

export const resetPhases: Phase[] = [
  resetPhase({
    id: 'reset-registry-mirrors',
    title: "remove ferry's CA from the trust store, containerd's hosts.toml files and the curl it installed",
    paths: [CONTAINERD_CERTS_DIR, NODE_CA_PATH, ...TRUST_ANCHORS],
    packagesOf: 'registry-mirrors',
    dirs: [REGISTRY_NODE_DIR, '/etc/ferry'],
    async after(host) {
      // Debian's update-ca-certificates keeps the links of a removed anchor unless it rebuilds /etc/ssl/certs.
      const trust = trustStorePlan((await host.readFile('/etc/os-release')).toString('utf8'));
      await host.exec(trust.update[0] === 'update-ca-certificates' ? [...trust.update, '--fresh'] : trust.update);
    },
  }),
  resetPhase({
    id: 'reset-registry',
    title: 'stop and remove the local registry (unit, binary, config, TLS files, data)',
    targets: (ctx) => registryHosts(ctx.inventory),
    units: [REGISTRY_UNIT],
    paths: [`/etc/systemd/system/${REGISTRY_UNIT}`, REGISTRY_BINARY, REGISTRY_NODE_DIR, REGISTRY_ROOT],
    dirs: ['/etc/ferry'],
    after: daemonReload,
  }),
  resetPhase({
    id: 'reset-load-balancer',
    title: 'stop and remove HAProxy and keepalived',
    targets: (ctx) => (ctx.inventory.network.loadBalancer === 'vip' ? balancerHosts(ctx.inventory) : ctx.inventory.hosts),
    units: ['keepalived', 'haproxy'],
    packagesOf: 'load-balancer',
    paths: [HAPROXY_CONFIG_PATH, KEEPALIVED_CONFIG_PATH, KEEPALIVED_CHECK_PATH, '/etc/systemd/system/haproxy.service.d/10-ferry.conf'],
    dirs: ['/etc/systemd/system/haproxy.service.d', '/etc/keepalived', '/etc/haproxy'],
    after: daemonReload,
  }),
  resetPhase({
    id: 'reset-container-runtime',
    title: 'stop and remove containerd and runc',
    units: ['containerd'],
    packagesOf: 'container-runtime',
    paths: [CONTAINERD_CONFIG_PATH],
    // certs.d is reset-registry-mirrors' (it runs first); containerd's CRI plugin makes /etc/cni/net.d when it starts.
    dirs: ['/etc/containerd', '/etc/cni/net.d', '/etc/cni'],
  }),
  resetPhase({
    id: 'reset-os-prepare',
    title: "remove ferry's firewall table, modules and sysctl files; restore swap in fstab",
    units: [FIREWALL_UNIT],
    paths: [`/etc/systemd/system/${FIREWALL_UNIT}`, NFTABLES_PATH, MODULES_PATH, SYSCTL_PATH],
    dirs: ['/etc/nftables.d'],
    leftover: sh`nft list table inet ferry >/dev/null 2>&1 && echo table; grep -q ${`^${SWAP_MARK}`} ${FSTAB_PATH} && echo fstab; true`,
    async after(host) {
      await daemonReload(host);
      await host.exec(sh`nft delete table inet ferry 2>/dev/null || true`);
      const fstab = await host.exec(['cat', FSTAB_PATH], { readOnly: true, allowFailure: true });
      const restored = restoreSwapInFstab(fstab.stdout);
      if (fstab.exitCode === 0 && restored.changed) await host.writeFile(FSTAB_PATH, restored.text);
    },
  }),
  resetPhase({
    id: 'reset-local-repo',
    title: "remove the bundle's repository file and apt's lists of it",
    paths: [APT_LIST_PATH, YUM_REPO_PATH],
    leftover: { shell: 'ls /var/lib/apt/lists/ 2>/dev/null | grep "^_var_lib_ferry_"; true' },
    async after(host) {
      await host.exec({ shell: 'rm -f /var/lib/apt/lists/_var_lib_ferry_*' });
    },
  }),
  resetPhase({ id: 'reset-copy-bundle', title: "remove the bundle's copy and ferry's state on the node", paths: [NODE_BUNDLE_DIR, FERRY_STATE_DIR] }),
];
