// What os-prepare must change on a node, decided from one read-only snapshot of it. Pure: snapshot text and
// desired settings in, a plan out; the phase runs the plan. Built-in modules and read-only sysctls (a kernel
// without module support, a container's /proc/sys) are told apart from real failures here.
import { sh, type ShellCommand } from '../hosts/shell.ts';
import { sysctlProcPath } from '../render/sysctl.ts';
import { markedSections } from '../facts/sections.ts';

/** How to see that a module's function is there although no module file was loaded (built into the kernel). */
export const PRESENCE_PROBES: Readonly<Record<string, string>> = {
  overlay: 'grep -qw overlay /proc/filesystems',
  br_netfilter: 'test -d /proc/sys/net/bridge',
  ipip: 'test -d /sys/class/net/tunl0',
};

/** One read-only script: swaps, fstab, modules present, sysctl values and writability, SELinux, ferry's nft table. */
export function snapshotScript(modules: readonly string[], sysctls: readonly string[]): ShellCommand {
  const mod = modules.map((m) => {
    const probe = PRESENCE_PROBES[m];
    const test = probe ? sh`{ test -d ${`/sys/module/${m}`} || ${{ shell: probe }}; }` : sh`test -d ${`/sys/module/${m}`}`;
    return sh`if ${test}; then echo ${m} present; else echo ${m} absent; fi`.shell;
  });
  const sys = sysctls.map((k) => {
    const p = sysctlProcPath(k);
    return sh`printf '%s\t%s\t%s\n' ${k} "$(cat ${p} 2>/dev/null || echo '<missing>')" "$(test -w ${p} && echo rw || echo ro)"`.shell;
  });
  const lines = [
    'echo ==ferry:swaps==', 'cat /proc/swaps',
    'echo ==ferry:fstab==', 'cat /etc/fstab 2>/dev/null',
    'echo ==ferry:modules==', ...mod,
    'echo ==ferry:sysctl==', ...sys,
    'echo ==ferry:selinux==', 'getenforce 2>/dev/null || echo absent',
    'echo ==ferry:selinux-config==', 'cat /etc/selinux/config 2>/dev/null',
    'echo ==ferry:nft==', 'nft list table inet ferry >/dev/null 2>&1 && echo present || echo absent',
    'echo ==ferry:unit==', 'systemctl is-enabled ferry-firewall.service 2>/dev/null || true',
    'true',
  ];
  return { shell: lines.join('\n') };
}

export interface Snapshot {
  swapActive: boolean;
  fstab: string;
  modules: Map<string, boolean>;
  sysctls: Map<string, { value: string | undefined; writable: boolean }>;
  selinux: 'enforcing' | 'permissive' | 'disabled' | 'absent';
  selinuxConfig: string;
  nftTable: boolean;
  unitEnabled: boolean;
}

/** Parses the snapshot script's output. */
export function parseSnapshot(output: string): Snapshot {
  const s = markedSections(output);
  const get = (k: string) => s.get(k) ?? '';
  const swaps = get('swaps').split('\n').filter((l) => l.trim() && !l.startsWith('Filename'));
  const modules = new Map(get('modules').split('\n').filter(Boolean).map((l) => l.split(' ')).map(([m, v]) => [m!, v === 'present'] as [string, boolean]));
  const sysctls = new Map(
    get('sysctl').split('\n').filter(Boolean).map((l) => l.split('\t')).map((f) => {
      // key, the value (tab-separated words for multi-value keys), rw|ro
      const v = f.slice(1, -1).join(' ').trim();
      return [f[0]!, { value: v === '<missing>' ? undefined : v, writable: f.at(-1) === 'rw' }] as const;
    }),
  );
  const se = get('selinux').trim().toLowerCase();
  return {
    swapActive: swaps.length > 0,
    fstab: get('fstab').replace(/\n$/, ''),
    modules,
    sysctls,
    selinux: se === 'enforcing' || se === 'permissive' || se === 'disabled' ? se : 'absent',
    selinuxConfig: get('selinux-config').replace(/\n$/, ''),
    nftTable: get('nft').trim() === 'present',
    unitEnabled: get('unit').trim() === 'enabled',
  };
}

export interface SysctlPlan {
  /** key=value pairs to write now. */
  set: string[];
  /** Keys that differ but cannot be written here (read-only /proc/sys): a warning, not a failure. */
  readOnly: string[];
  /** Keys the kernel does not have at all (after the modules are loaded): a failure. */
  missing: string[];
}

/** What to do about each wanted sysctl. */
export function planSysctls(snapshot: Snapshot, wanted: Readonly<Record<string, string>>): SysctlPlan {
  const plan: SysctlPlan = { set: [], readOnly: [], missing: [] };
  for (const [key, value] of Object.entries(wanted)) {
    const now = snapshot.sysctls.get(key);
    if (!now || now.value === undefined) plan.missing.push(key);
    else if (now.value.replace(/\s+/g, ' ') === value) continue;
    else if (now.writable) plan.set.push(`${key}=${value}`);
    else plan.readOnly.push(`${key} is ${now.value}, wanted ${value}`);
  }
  return plan;
}

/** /etc/selinux/config with SELINUX=enforcing turned to permissive (kubeadm's advice); `changed` says if it was. */
export function permissiveSelinuxConfig(text: string): { text: string; changed: boolean } {
  const out = text.replace(/^SELINUX=enforcing\s*$/m, 'SELINUX=permissive');
  return { text: out, changed: out !== text };
}

/** What os-prepare does about SELinux on one node (the phase runs it; nothing to do is all fields empty). */
export interface SelinuxPlan {
  /** `setenforce 0` now. */
  setenforce?: '0';
  /** The new /etc/selinux/config text, when it must change. */
  config?: string;
  /** Packages the node needs from the bundle (container-selinux where SELinux is kept). */
  packages: string[];
  /** What to tell the operator at the end of the run. */
  warning?: string;
}

/** The package that lets containers run under an enforcing SELinux (EL's AppStream). */
export const CONTAINER_SELINUX = 'container-selinux';

/**
 * The SELinux decision for one node, from the inventory's policy (`selinux:`, per host over per cluster) and the
 * node's snapshot. `permissive` (the default, kubeadm's advice) switches an enforcing node now and in its config,
 * and warns so it is never silent; `enforcing` changes nothing and asks for container-selinux; `leave` changes
 * nothing and warns when the node enforces. A node without SELinux (Debian, or disabled) needs nothing.
 */
export function planSelinux(policy: 'permissive' | 'enforcing' | 'leave', snapshot: Pick<Snapshot, 'selinux' | 'selinuxConfig'>, node = 'the node'): SelinuxPlan {
  if (snapshot.selinux === 'absent' || snapshot.selinux === 'disabled') return { packages: [] };
  const configEnforcing = /^SELINUX=enforcing\s*$/m.test(snapshot.selinuxConfig);
  const enforcing = snapshot.selinux === 'enforcing';
  if (policy === 'enforcing') return { packages: [CONTAINER_SELINUX] };
  if (policy === 'leave')
    return enforcing || configEnforcing
      ? { packages: [], warning: `${node}: SELinux is ${enforcing ? 'enforcing' : 'enforcing from the next boot (/etc/selinux/config)'} and the inventory says selinux: leave, so ferry changed nothing; containers need ${CONTAINER_SELINUX} there (selinux: enforcing installs it from the bundle)` }
      : { packages: [] };
  const config = snapshot.selinuxConfig ? permissiveSelinuxConfig(snapshot.selinuxConfig) : { text: '', changed: false };
  if (!enforcing && !config.changed) return { packages: [] };
  const what = [enforcing ? 'now (setenforce 0)' : '', config.changed ? 'in /etc/selinux/config' : ''].filter(Boolean).join(' and ');
  return {
    ...(enforcing ? { setenforce: '0' as const } : {}),
    ...(config.changed ? { config: config.text } : {}),
    packages: [],
    warning: `${node}: SELinux was enforcing and is set to permissive ${what}, as the inventory's selinux: permissive says (kubeadm's advice); to keep it enforcing set selinux: enforcing (installs ${CONTAINER_SELINUX} from the bundle), or selinux: leave`,
  };
}
