// The GPU probe's parser on outputs in the shapes the node prints them. PCI lines: the reconstructed Rocky 8 H100
// node (test/fixtures/facts/rocky8-gpu-reconstructed: H100 SXM5 device 0x2330, class 0x030200) plus an NVSwitch
// (class 0x068000, not a GPU). /proc/driver/nvidia/version: the NVRM line as the open kernel module prints it
// (format documented in src/facts/parse-gpu.ts). Offered names: real Ubuntu and Rocky package names.
import { describe, expect, it } from 'vitest';
import { gpuProbeScript, parseGpuProbe } from '../../src/gpu/gpu-facts.ts';

const out = (sections: Record<string, string>) => Object.entries(sections).map(([k, v]) => `==ferry:${k}==\n${v}`).join('');

describe('parseGpuProbe', () => {
  it('counts display controllers only, finds the initramfs tool, the offered names and the loaded module', () => {
    const p = parseGpuProbe(out({
      gpus: '0000:18:00.0 0x030200\n0000:2a:00.0 0x030200\n0000:05:00.0 0x068000\n',
      initramfs: '/usr/sbin/update-initramfs\n',
      offered: 'containerd\nlinux-modules-nvidia-580-server-open-5.15.0-130-generic\nnvidia-utils-580-server\n',
      loaded: 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.133.20  Release Build  (dvs-builder@U16-I3-B03-4-3)  Fri Mar 14 07:39:29 UTC 2025\nGCC version:  gcc version 8.5.0 20210514 (Red Hat 8.5.0-10) (GCC)\n',
    }));
    expect(p.gpus).toBe(2);
    expect(p.initramfs).toBe('update-initramfs');
    expect([...p.offered]).toEqual(['containerd', 'linux-modules-nvidia-580-server-open-5.15.0-130-generic', 'nvidia-utils-580-server']);
    expect(p.loaded).toBe('570.133.20');
  });

  it('reads dnf repoquery pairs (name, then name-version-release.arch) and dracut; no GPU, no module', () => {
    const p = parseGpuProbe(out({
      gpus: '', initramfs: '/usr/bin/dracut\n',
      offered: 'kernel-devel kernel-devel-4.18.0-553.el8_10.x86_64\nkmod-nvidia-580.82.07-4.18.0-553 kmod-nvidia-580.82.07-4.18.0-553-580.82.07-3.el8_10.x86_64\n',
      loaded: '',
    }));
    expect(p).toMatchObject({ gpus: 0, initramfs: 'dracut', loaded: undefined });
    expect(p.offered.has('kernel-devel-4.18.0-553.el8_10.x86_64')).toBe(true);
    expect(p.offered.has('kmod-nvidia-580.82.07-4.18.0-553')).toBe(true);
  });

  it('says none when the node has no initramfs tool (a container-like node)', () => {
    expect(parseGpuProbe(out({ gpus: '', initramfs: '', offered: '', loaded: '' })).initramfs).toBe('none');
  });
});

describe('gpuProbeScript', () => {
  it('reads the Debian repo index itself and asks dnf about ferry\'s repo alone', () => {
    expect(gpuProbeScript('debian', '/var/lib/ferry/bundle/packages/debian-12/amd64').shell).toContain("sed -n 's/^Package: //p' /var/lib/ferry/bundle/packages/debian-12/amd64/Packages");
    expect(gpuProbeScript('el', '/x').shell).toContain("dnf -q '--disablerepo=*' --enablerepo=ferry repoquery --qf '%{name} %{name}-%{version}-%{release}.%{arch}'");
  });
});
