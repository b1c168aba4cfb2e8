// judgeSmi on nvidia-smi's real answers: a CSV line per GPU as an H100 node prints it (`NVIDIA H100 80GB HBM3,
// 580.82.07`, recorded on an Ubuntu 22.04 H100 node in a public GitHub report); NVML's "Driver/library version
// mismatch" after an upgrade without reboot and "couldn't communicate with the NVIDIA driver" (exit 9) with no
// module, both the messages nvidia-smi prints (NVIDIA forums and docs quote them verbatim).
import { describe, expect, it } from 'vitest';
import { judgeSmi, parseSmiCsv } from '../../src/gpu/smi-verdict.ts';

const h100 = 'NVIDIA H100 80GB HBM3, 580.82.07\n'.repeat(8);

describe('judgeSmi', () => {
  it.each([
    { name: 'eight H100s on the locked branch', r: { exitCode: 0, stdout: h100, stderr: '' }, loaded: '580.82.07', ok: true },
    {
      name: 'an old module still loaded: reboot, never done silently',
      r: { exitCode: 18, stdout: 'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 580.82\n', stderr: '' }, loaded: '550.54.15',
      ok: false, reboot: true,
      reason: 'gpu-1: the NVIDIA 580 driver is installed but the loaded kernel module is 550.54.15, so it cannot load',
      hint: 'reboot gpu-1 (ferry never reboots a node by itself), then run the same install again',
    },
    {
      name: 'another branch answers: both named',
      r: { exitCode: 0, stdout: 'NVIDIA H100 80GB HBM3, 550.54.14\n', stderr: '' }, loaded: undefined, ok: false, reboot: false,
      reason: 'gpu-1: nvidia-smi reports driver 550.54.14 but the lock wants branch 580',
    },
    {
      name: 'no driver loaded at all',
      r: { exitCode: 9, stdout: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n", stderr: '' },
      loaded: undefined, ok: false, reboot: false,
      reason: "gpu-1: nvidia-smi does not answer after the driver install: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    },
    {
      name: 'a real nvidia-smi that exits 0 and prints nothing fails (only a dry-run host may answer that way)',
      r: { exitCode: 0, stdout: '', stderr: '' }, loaded: undefined, ok: false, reboot: false,
      reason: 'gpu-1: nvidia-smi exited 0 but listed no GPU (empty output)',
      hint: 'on gpu-1, check that the GPUs are visible (lspci -d 10de:) and the nvidia module is loaded (lsmod | grep nvidia), then run the same install again',
    },
    { name: 'nvidia-smi missing', r: { exitCode: 127, stdout: '', stderr: 'sh: 1: nvidia-smi: not found\n' }, loaded: undefined, ok: false, reboot: false, reason: 'gpu-1: nvidia-smi does not answer after the driver install: sh: 1: nvidia-smi: not found' },
  ])('$name', ({ name: _name, r, loaded, ...want }) => {
    expect(judgeSmi('gpu-1', r, 580, loaded)).toMatchObject(want);
  });
});

describe('parseSmiCsv', () => {
  it('reads name and driver per GPU and skips anything else', () => {
    expect(parseSmiCsv('NVIDIA H100 80GB HBM3, 580.82.07\nNo devices were found\n')).toEqual([{ name: 'NVIDIA H100 80GB HBM3', driverVersion: '580.82.07' }]);
  });
});
