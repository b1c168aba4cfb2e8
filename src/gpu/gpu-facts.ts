// What a GPU node says about itself in one read-only round trip: NVIDIA PCI devices, the initramfs tool, the
// package names ferry's repository on the node offers, and the version of a loaded nvidia.ko. Script and parser.
import { sh, type ShellCommand } from '../hosts/shell.ts';
import { parseNvidiaVersion } from '../facts/parse-gpu.ts';
import { markedSections } from '../facts/sections.ts';

export interface GpuProbe {
  /** NVIDIA display controllers (PCI class 0x03xxxx): NVSwitch bridges and audio functions are not GPUs. */
  gpus: number;
  initramfs: 'dracut' | 'update-initramfs' | 'none';
  /** Package names in ferry's repo (EL: also name-version-release.arch). */
  offered: Set<string>;
  /** Version of the nvidia.ko now loaded (/proc/driver/nvidia/version), if one is. */
  loaded: string | undefined;
}

/**
 * The probe script. Debian reads the names straight from the repo's Packages index (never stale, unlike apt's
 * lists); EL asks dnf about ferry's repository alone.
 */
export function gpuProbeScript(family: 'debian' | 'el', repoDir: string): ShellCommand {
  const offered =
    family === 'debian'
      ? sh`sed -n 's/^Package: //p' ${`${repoDir}/Packages`}`
      : sh`dnf -q ${'--disablerepo=*'} --enablerepo=ferry repoquery --qf ${'%{name} %{name}-%{version}-%{release}.%{arch}'}`;
  return {
    shell: [
      'echo ==ferry:gpus==',
      'for d in /sys/bus/pci/devices/*; do [ -r "$d/vendor" ] || continue; read -r v < "$d/vendor"; [ "$v" = 0x10de ] || continue; read -r c < "$d/class"; echo "${d##*/} $c"; done',
      'echo ==ferry:initramfs==',
      'command -v dracut update-initramfs 2>/dev/null',
      'echo ==ferry:offered==',
      offered.shell,
      'echo ==ferry:loaded==',
      'cat /proc/driver/nvidia/version 2>/dev/null',
      'true',
    ].join('\n'),
  };
}

/** Parses the probe script's output. */
export function parseGpuProbe(output: string): GpuProbe {
  const s = markedSections(output);
  const lines = (k: string) => (s.get(k) ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  const tools = lines('initramfs').map((l) => l.split('/').pop());
  return {
    gpus: lines('gpus').filter((l) => l.split(/\s+/)[1]?.startsWith('0x03')).length,
    initramfs: tools.includes('dracut') ? 'dracut' : tools.includes('update-initramfs') ? 'update-initramfs' : 'none',
    offered: new Set(lines('offered').flatMap((l) => l.split(/\s+/))),
    loaded: parseNvidiaVersion(lines('loaded')),
  };
}
