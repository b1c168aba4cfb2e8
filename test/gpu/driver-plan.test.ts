// planDriver over real package names: Canonical's precompiled modules (packages.ubuntu.com,
// linux-restricted-modules), NVIDIA's precompiled EL kmods (yum-packaging-precompiled-kmod naming, example
// kmod-nvidia-460.32.03-4.18.0-240.15.1 from yum-packaging-dkms-nvidia's README), and the DKMS packages
// bundle/sources/gpu-packages.ts carries (NVIDIA driver installation guide). Kernels are real `uname -r` values:
// Ubuntu 22.04 5.15.0-130-generic (recorded on an H100 node), Rocky 8.3 4.18.0-240.15.1.el8_3.x86_64, Rocky 9.4
// 5.14.0-427.13.1.el9_4.x86_64, and this lab's 6.18.44-fc-v782.
import { describe, expect, it } from 'vitest';
import type { Stack } from '../../src/config/lock.ts';
import { planDriver, type DriverPlan, type GpuNodeFacts } from '../../src/gpu/driver-plan.ts';
import { elKernelBase } from '../../src/gpu/driver-packages.ts';

const open580 = { branch: 'R580', version: '580.82.07', kernelModule: 'open' } as const;
const prop580 = { branch: 'R580', version: '580.82.07', kernelModule: 'proprietary' } as const;
const ubuntu: Pick<Stack, 'os' | 'nvidiaDriver'> = { os: { id: 'ubuntu', version: '22.04', family: 'debian', arch: 'amd64' }, nvidiaDriver: open580 };
const debian: Pick<Stack, 'os' | 'nvidiaDriver'> = { os: { id: 'debian', version: '12', family: 'debian', arch: 'amd64' }, nvidiaDriver: open580 };
const rocky8: Pick<Stack, 'os' | 'nvidiaDriver'> = { os: { id: 'rocky', version: '8.3', family: 'el', arch: 'x86_64' }, nvidiaDriver: prop580 };
const rocky9: Pick<Stack, 'os' | 'nvidiaDriver'> = { os: { id: 'rocky', version: '9.4', family: 'el', arch: 'x86_64' }, nvidiaDriver: open580 };

const node = (over: Partial<GpuNodeFacts>): GpuNodeFacts => ({ host: 'gpu-1', family: 'debian', osMajor: 22, kernel: '5.15.0-130-generic', machine: 'x86_64', gpus: 8, initramfs: 'update-initramfs', ...over });
const toolkit = ['nvidia-container-toolkit'];
const ubuntuPre = ['linux-modules-nvidia-580-server-open-5.15.0-130-generic', 'nvidia-utils-580-server', 'nvidia-compute-utils-580-server'];
const ubuntuDkms = ['linux-headers-5.15.0-130-generic', 'gcc', 'make', 'dkms', 'nvidia-driver-pinning-580', 'nvidia-open-580'];

interface Row { name: string; node: GpuNodeFacts; stack: Pick<Stack, 'os' | 'nvidiaDriver'>; offered: string[]; want: Partial<DriverPlan> & { kind: DriverPlan['kind'] } }

const rows: Row[] = [
  {
    name: 'Ubuntu 22.04: Canonical precompiled open modules for the exact kernel',
    node: node({}), stack: ubuntu, offered: [...ubuntuPre, ...ubuntuDkms, ...toolkit],
    want: { kind: 'precompiled', install: [...ubuntuPre, ...toolkit], installed: [...ubuntuPre, ...toolkit], initramfs: ['update-initramfs', '-u'], branch: 580 },
  },
  {
    name: 'Ubuntu 22.04: no precompiled module for this kernel, headers there: DKMS with NVIDIA\'s packages',
    node: node({}), stack: ubuntu, offered: ['linux-modules-nvidia-580-server-open-5.15.0-131-generic', ...ubuntuDkms.slice(0, 4), 'nvidia-driver-pinning-580', 'nvidia-open-580', ...toolkit],
    want: { kind: 'dkms', install: [...ubuntuDkms, ...toolkit], installed: [...ubuntuDkms, ...toolkit] },
  },
  {
    name: 'Rocky 8: the nvidia-driver:580 stream with the precompiled kmod for 4.18.0-240.15.1',
    node: node({ family: 'el', osMajor: 8, kernel: '4.18.0-240.15.1.el8_3.x86_64', initramfs: 'dracut' }), stack: rocky8,
    offered: ['kmod-nvidia-580.82.07-4.18.0-240.15.1', 'nvidia-driver-cuda', 'nvidia-container-toolkit'],
    want: {
      kind: 'precompiled', install: ['@nvidia-driver:580', 'kmod-nvidia-580.82.07-4.18.0-240.15.1', 'nvidia-driver-cuda', ...toolkit],
      installed: ['kmod-nvidia-580.82.07-4.18.0-240.15.1', 'nvidia-driver-cuda', ...toolkit], initramfs: ['dracut', '--force'],
    },
  },
  {
    name: 'Rocky 9: open DKMS stream with kernel-devel of the running kernel',
    node: node({ family: 'el', osMajor: 9, kernel: '5.14.0-427.13.1.el9_4.x86_64', initramfs: 'dracut' }), stack: rocky9,
    offered: ['kernel-devel', 'kernel-devel-5.14.0-427.13.1.el9_4.x86_64', 'gcc', 'make', 'dkms', 'nvidia-open', ...toolkit],
    want: {
      kind: 'dkms', install: ['kernel-devel-5.14.0-427.13.1.el9_4.x86_64', 'gcc', 'make', 'dkms', '@nvidia-driver:580-open', 'nvidia-open', ...toolkit],
      installed: ['kernel-devel', 'gcc', 'make', 'dkms', 'nvidia-open', ...toolkit],
    },
  },
  {
    name: 'Rocky 9: kernel-devel of another kernel only: refused, naming the exact package',
    node: node({ family: 'el', osMajor: 9, kernel: '5.14.0-427.13.1.el9_4.x86_64', initramfs: 'dracut' }), stack: rocky9,
    offered: ['kernel-devel', 'kernel-devel-5.14.0-362.8.1.el9_3.x86_64', 'gcc', 'make', 'dkms', 'nvidia-open', ...toolkit],
    want: { kind: 'refuse', reason: expect.stringContaining('missing kernel-devel-5.14.0-427.13.1.el9_4.x86_64') as unknown as string },
  },
  {
    name: 'Debian 12 lab kernel with neither precompiled module nor headers: refused with the fix',
    node: node({ osMajor: 12, kernel: '6.18.44-fc-v782', initramfs: 'none' }), stack: debian, offered: ['containerd', 'runc', ...toolkit],
    want: {
      kind: 'refuse',
      reason: "gpu-1 runs kernel 6.18.44-fc-v782, and ferry's repository has neither a precompiled NVIDIA 580 driver for it (linux-modules-nvidia-580-server-open-6.18.44-fc-v782) nor what DKMS needs to build one: missing linux-headers-6.18.44-fc-v782, gcc, make, dkms, nvidia-driver-pinning-580, nvidia-open-580",
      hint: 'rebuild the bundle for this kernel: ferry bundle build --kernel 6.18.44-fc-v782 (then copy it and run install again)',
    },
  },
  {
    name: 'Debian 12 lab kernel with the precompiled module: no initramfs tool, none rebuilt',
    node: node({ osMajor: 12, kernel: '6.18.44-fc-v782', initramfs: 'none' }), stack: debian,
    offered: ['linux-modules-nvidia-580-server-open-6.18.44-fc-v782', 'nvidia-utils-580-server', 'nvidia-compute-utils-580-server', ...toolkit],
    want: { kind: 'precompiled', install: ['linux-modules-nvidia-580-server-open-6.18.44-fc-v782', 'nvidia-utils-580-server', 'nvidia-compute-utils-580-server', ...toolkit] },
  },
  {
    name: 'precompiled module present but not its utilities: DKMS is not offered either, so refused',
    node: node({}), stack: ubuntu, offered: [ubuntuPre[0]!, ...toolkit],
    want: { kind: 'refuse' },
  },
  {
    name: 'no container toolkit in the bundle: refused before the driver',
    node: node({}), stack: ubuntu, offered: ubuntuPre,
    want: { kind: 'refuse', reason: "ferry's repository on gpu-1 lacks nvidia-container-toolkit (NVIDIA Container Toolkit)" },
  },
  {
    name: 'role gpu without an NVIDIA GPU on the bus',
    node: node({ gpus: 0 }), stack: ubuntu, offered: [...ubuntuPre, ...toolkit],
    want: { kind: 'refuse', reason: 'gpu-1 has role gpu but no NVIDIA GPU on its PCI bus (vendor 0x10de, class 0x03)' },
  },
  {
    name: 'a lock without a driver',
    node: node({}), stack: { ...ubuntu, nvidiaDriver: null }, offered: [...ubuntuPre, ...toolkit],
    want: { kind: 'refuse', reason: 'gpu-1 has role gpu but the lock has no NVIDIA driver' },
  },
];

describe('planDriver', () => {
  it.each(rows)('$name', ({ node: n, stack, offered, want }) => {
    const plan = planDriver(n, stack, new Set(offered));
    expect(plan).toMatchObject(want);
    if (plan.kind !== 'refuse' && n.initramfs === 'none') expect(plan.initramfs).toBeUndefined();
  });
});

describe('elKernelBase', () => {
  it.each([
    ['4.18.0-240.15.1.el8_3.x86_64', '4.18.0-240.15.1'],
    ['5.14.0-427.13.1.el9_4.x86_64', '5.14.0-427.13.1'],
    ['4.18.0-553.el8_10.x86_64', '4.18.0-553'],
    ['5.14.0-570.12.1.el9_6.aarch64', '5.14.0-570.12.1'],
  ])('%s → %s', (kernel, base) => {
    expect(elKernelBase(kernel)).toBe(base);
  });
});
