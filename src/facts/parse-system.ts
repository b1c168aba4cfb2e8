// Parsers for the system sections of gather.sh: OS, kernel, identity, cgroups, memory, services, security state.
import type { Facts, OsFamily } from './types.ts';
import { parseOsRelease } from '../matrix/os-release.ts';
import { firstLine, linesOf, type Section } from './sections.ts';

type Sections = Map<string, Section>;

/** `KEY=value` lines of `timedatectl show`. */
export function keyValues(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const m = /^([A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * The one OS-family table (install's package managers and doctor's checks both use it), by os-release ID, then the
 * IDs of ID_LIKE. Oracle Linux names itself `ID="ol"`, `ID_LIKE="fedora"` (os-release(5) as Oracle ships it): an
 * EL system by its package manager and layout, which the matrix still refuses to resolve for (matrices/os.yaml:
 * its default UEK kernel), so `ferry resolve` and preflight's lock check stop it before any phase acts.
 */
export const OS_FAMILY_BY_ID: Readonly<Record<string, Exclude<OsFamily, 'other'>>> = {
  rhel: 'el', rocky: 'el', almalinux: 'el', centos: 'el', fedora: 'el', ol: 'el',
  debian: 'debian', ubuntu: 'debian',
};

/** EL (RHEL, Rocky, Alma, CentOS, Oracle), Debian family (Debian, Ubuntu) or other, from ID, then ID_LIKE in order. */
export function osFamily(release: Record<string, string>): OsFamily {
  for (const id of [release.ID ?? '', ...(release.ID_LIKE ?? '').split(/\s+/)]) {
    const family = OS_FAMILY_BY_ID[id];
    if (family) return family;
  }
  return 'other';
}

/** The compiler named in /proc/version, e.g. `gcc (GCC) 8.5.0 20210514 (Red Hat 8.5.0-20)`. */
export function kernelCompiler(procVersion: string | undefined): string | undefined {
  const m = /\((gcc[^()]*(?:\([^()]*\)[^()]*)*)\)/.exec(procVersion ?? '');
  return m?.[1]?.split(',')[0]?.trim();
}

/** cgroup layout from `stat -fc %T /sys/fs/cgroup` and whether a unified hierarchy hangs below it. */
export function cgroupVersion(fsType: string | undefined, procCgroups: readonly string[]): Facts['cgroup']['version'] {
  if (fsType === 'cgroup2fs') return 'v2';
  if (fsType === 'tmpfs') return procCgroups.length > 0 ? 'v1' : 'unknown';
  return 'unknown';
}

function controllers(sections: Sections, version: Facts['cgroup']['version']): string[] {
  if (version === 'v2') return (firstLine(sections, 'cgroup-controllers') ?? '').split(/\s+/).filter(Boolean);
  // v1: /proc/cgroups rows "name hierarchy num enabled"
  return linesOf(sections, 'proc-cgroups')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.split(/\s+/))
    .filter((f) => f[3] === '1')
    .map((f) => f[0]!);
}

/** `name value` lines (services, tools) into a record; `-` or empty means absent. */
export function pairs(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const [key, ...rest] = line.trim().split(/\s+/);
    const value = rest.join(' ');
    if (key && value && value !== '-') out[key] = value;
  }
  return out;
}

/** `mokutil --sb-state`, or the SecureBoot EFI variable dumped by od (last byte 1 = enabled). */
export function secureBootState(lines: readonly string[]): Facts['secureBoot'] {
  for (const line of lines) {
    if (/SecureBoot enabled/i.test(line)) return 'enabled';
    if (/SecureBoot disabled/i.test(line)) return 'disabled';
    if (/not supported/i.test(line)) return 'unsupported';
    const efivar = /^efivar\s+([\d\s]+)$/.exec(line.trim());
    if (efivar) return efivar[1]!.trim().split(/\s+/).at(-1) === '1' ? 'enabled' : 'disabled';
  }
  return 'unknown';
}

/** The system half of Facts. */
export function parseSystem(sections: Sections) {
  const release = parseOsRelease(linesOf(sections, 'os-release').join('\n'));
  const [, kernelRelease = '', arch = ''] = (firstLine(sections, 'uname') ?? '').split(/\s+/);
  const modulesDir = linesOf(sections, 'modules-dir');
  const cgroupFs = firstLine(sections, 'cgroup-fs');
  const version = cgroupVersion(cgroupFs, linesOf(sections, 'proc-cgroups'));
  const sysctl: Record<string, string> = {};
  for (const line of linesOf(sections, 'sysctl')) {
    const i = line.indexOf('=');
    if (i > 0) sysctl[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  const memTotal = /^MemTotal:\s+(\d+)/m.exec(linesOf(sections, 'meminfo').join('\n'));
  const timedate = keyValues(linesOf(sections, 'timedatectl'));
  const rebootLines = linesOf(sections, 'reboot');
  const needsRestarting = rebootLines.find((l) => l.startsWith('needs-restarting '));
  const rebootFile = rebootLines.includes('reboot-required-file');
  const headerLines = linesOf(sections, 'kernel-headers');
  const manager = /^manager (dpkg|rpm) (\S+)$/.exec(headerLines[0] ?? '');
  const elPackages: Record<string, boolean> = {};
  for (const line of linesOf(sections, 'el-packages')) {
    const missing = /^package (\S+) is not installed/.exec(line);
    if (missing) elPackages[missing[1]!] = false;
    else {
      const name = /^(container-selinux|fapolicyd)-\d/.exec(line);
      if (name) elPackages[name[1]!] = true;
    }
  }
  const procVersion = firstLine(sections, 'proc-version');
  const modules = sections.get('modules');
  return {
    isRoot: firstLine(sections, 'id') === '0',
    os: {
      id: release.ID ?? 'unknown',
      idLike: (release.ID_LIKE ?? '').split(/\s+/).filter(Boolean),
      versionId: release.VERSION_ID ?? '',
      family: osFamily(release),
      prettyName: release.PRETTY_NAME ?? release.ID ?? 'unknown',
    },
    kernel: {
      release: kernelRelease,
      arch,
      compiler: kernelCompiler(procVersion),
      modulesDir: modulesDir.some((l) => l.trim() === `/lib/modules/${kernelRelease}`),
      buildDir: modulesDir.some((l) => l.trim() === `/lib/modules/${kernelRelease}/build`),
    },
    identity: {
      hostname: firstLine(sections, 'hostname') ?? '',
      machineId: firstLine(sections, 'machine-id') || undefined,
      productUuid: firstLine(sections, 'product-uuid')?.toLowerCase() || undefined,
    },
    cgroup: { version, controllers: controllers(sections, version) },
    modules: modules?.rc === 0 ? linesOf(sections, 'modules').map((l) => l.trim()) : undefined,
    filesystems: linesOf(sections, 'filesystems').map((l) => l.trim().split(/\s+/).at(-1)!),
    sysctl,
    swap: {
      devices: linesOf(sections, 'swaps')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .map((f) => ({ name: f[0]!, sizeKb: Number(f[2] ?? 0) })),
    },
    memory: { totalKb: memTotal ? Number(memTotal[1]) : 0 },
    cpus: Number(firstLine(sections, 'nproc') ?? 0),
    services: pairs(linesOf(sections, 'services')),
    time: {
      ntpSynchronized: timedate.NTPSynchronized === undefined ? undefined : timedate.NTPSynchronized === 'yes',
      ntpService: timedate.NTP === undefined ? undefined : timedate.NTP === 'yes',
    },
    kernelHeaders: manager
      ? {
          manager: manager[1] as 'dpkg' | 'rpm',
          package: manager[2]!,
          installed:
            manager[1] === 'dpkg'
              ? headerLines.some((l) => /install ok installed/.test(l))
              : headerLines.slice(1).some((l) => l.trim() === manager[2] || l.trim().startsWith(`${manager[2]}.`)),
        }
      : undefined,
    reboot: {
      required: rebootFile || needsRestarting === 'needs-restarting 1',
      reason: rebootFile ? '/var/run/reboot-required exists' : needsRestarting === 'needs-restarting 1' ? '`needs-restarting -r` says a reboot is needed' : undefined,
    },
    selinux: firstLine(sections, 'selinux'),
    elPackages,
    python: firstLine(sections, 'python'),
    tools: pairs(linesOf(sections, 'tools')),
    secureBoot: secureBootState(linesOf(sections, 'secure-boot')),
    gcc: firstLine(sections, 'gcc'),
  } satisfies Partial<Facts>;
}
