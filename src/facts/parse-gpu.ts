// Parsers for the GPU sections of gather.sh: NVIDIA PCI devices, loaded driver version, nvidia-smi.
import type { Facts } from './types.ts';
import { linesOf, type Section } from './sections.ts';

/** `NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.133.20  Release Build ...` → 570.133.20. */
export function parseNvidiaVersion(lines: readonly string[]): string | undefined {
  const line = lines.find((l) => l.startsWith('NVRM version:'));
  return line ? /\s(\d+\.\d+(?:\.\d+)?)\s/.exec(line)?.[1] : undefined;
}

/** The GPU part of Facts. */
export function parseGpu(sections: Map<string, Section>): Facts['gpu'] {
  return {
    // Display controllers only (class 0x03xxxx): NVSwitch bridges and audio functions are not GPUs.
    devices: linesOf(sections, 'gpus')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[2]?.startsWith('0x03'))
      .map((f) => ({ slot: f[0]!, deviceId: f[1]! })),
    driverVersion: parseNvidiaVersion(linesOf(sections, 'nvidia-version')),
    smi: linesOf(sections, 'nvidia-smi')
      .map((l) => l.split(',').map((x) => x.trim()))
      .filter((f) => f.length >= 3)
      .map((f) => ({ name: f[0]!, driverVersion: f[1]!, busId: f[2]! })),
  };
}
