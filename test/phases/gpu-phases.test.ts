// gpu-driver and gpu-addons against the strict scripted host: the exact commands of a precompiled install, a
// converged node (isDone from packages, files, nvidia-persistenced and nvidia-smi), the refusal that touches
// nothing, the reboot a loaded old module needs, and the add-ons applied and labelled through kubectl. Outputs:
// dpkg-query lines in its real format, nvidia-smi CSV as an H100 node prints it (see test/gpu/smi-verdict.test.ts).
import { describe, expect, it } from 'vitest';
import { NOUVEAU_BLACKLIST } from '../../src/gpu/driver-plan.ts';
import { gpuAddonsPhase, labelledNodes } from '../../src/phases/gpu-addons.ts';
import { gpuDriverPhase } from '../../src/phases/gpu-driver.ts';
import { rememberNodeFacts } from '../../src/phases/node-facts.ts';
import { parseNodeFacts } from '../../src/phases/parse-node-facts.ts';
import { contentDigest } from '../../src/phases/place-files.ts';
import { renderGpuAddons } from '../../src/render/gpu-addons.ts';
import { FakeHost } from '../support/fake-host.ts';
import { fixture } from './fixtures.ts';
import { phaseContext } from './phase-context.ts';

const KERNEL = '6.1.0-37-amd64';
const PRE = ['linux-modules-nvidia-580-server-open-6.1.0-37-amd64', 'nvidia-utils-580-server', 'nvidia-compute-utils-580-server', 'nvidia-container-toolkit'];
const H100 = 'NVIDIA H100 80GB HBM3, 580.82.07\nNVIDIA H100 80GB HBM3, 580.82.07\n';
const BLACKLIST = '/etc/modprobe.d/ferry-blacklist-nouveau.conf';

function debianGpuContext() {
  const ctx = phaseContext('debian');
  const h = ctx.inventory.hosts.find((x) => x.name === 'gpu-1')!;
  const out = `==ferry:os-release==\n${fixture('debian12-os-release')}==ferry:kernel==\n${KERNEL}\n==ferry:machine==\nx86_64\n==ferry:addresses==\n2: eth0    inet ${h.address}/24 scope global eth0\n`;
  rememberNodeFacts(ctx.state, 'gpu-1', parseNodeFacts('gpu-1', out, h.address));
  return ctx;
}

const probe = (offered: string[], options: { initramfs?: string; loaded?: string } = {}) =>
  `==ferry:gpus==\n0000:18:00.0 0x030200\n0000:2a:00.0 0x030200\n==ferry:initramfs==\n${options.initramfs ?? ''}\n==ferry:offered==\n${['containerd', 'runc', ...offered].join('\n')}\n==ferry:loaded==\n${options.loaded ?? ''}\n`;
const dpkg = (names: string[]) => ({ command: /^dpkg-query -W /, stdout: [...fixture('debian12-lab-dpkg-query.txt').trim().split('\n'), ...names.map((n) => `ii  ${n}`)].join('\n') + '\n', readOnly: true });
const target = (ctx: ReturnType<typeof phaseContext>, host: FakeHost) => ({ spec: ctx.inventory.hosts.find((h) => h.name === host.name)!, host });

describe('gpu-driver', () => {
  it('targets the hosts with role gpu', () => {
    expect(gpuDriverPhase.targets(debianGpuContext(), {}).map((h) => h.name)).toEqual(['gpu-1', 'gpu-2']);
  });

  it('installs the precompiled driver for the running kernel, blacklists nouveau, rebuilds the initramfs, checks nvidia-smi', async () => {
    const ctx = debianGpuContext();
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:gpus==/, stdout: probe(PRE, { initramfs: '/usr/sbin/update-initramfs' }), readOnly: true },
      { command: `sha256sum -- ${BLACKLIST}`, exitCode: 1, readOnly: true },
      { command: `install -D -m 644 /var/lib/ferry/staging/ferry-blacklist-nouveau.conf ${BLACKLIST} && rm -f /var/lib/ferry/staging/ferry-blacklist-nouveau.conf`, readOnly: false },
      { ...dpkg([]), times: 2 },
      { command: /^apt-get -q -y .* update$/, readOnly: false },
      { command: `apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 install --no-install-recommends ${PRE.join(' ')}`, readOnly: false },
      dpkg(PRE),
      { command: 'cat /var/lib/ferry/packages/gpu-driver.list', exitCode: 1, readOnly: true },
      { command: 'update-initramfs -u', readOnly: false },
      { command: 'systemctl enable --now nvidia-persistenced', readOnly: false },
      { command: 'nvidia-smi --query-gpu=name,driver_version --format=csv,noheader', stdout: H100, readOnly: false },
    ]);
    await gpuDriverPhase.run(target(ctx, host), ctx, {});
    expect(host.unmet()).toEqual([]);
    expect(host.written.get('/var/lib/ferry/staging/ferry-blacklist-nouveau.conf')?.data).toBe(NOUVEAU_BLACKLIST);
    expect(host.written.get('/var/lib/ferry/packages/gpu-driver.list')?.data).toBe(`${[...PRE].sort().join('\n')}\n`);
  });

  it('is done on a converged node: packages, blacklist, persistenced and nvidia-smi on the locked branch, all read-only', async () => {
    const ctx = debianGpuContext();
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:gpus==/, stdout: probe(PRE, { loaded: 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.82.07  Release Build  (dvs-builder@U22-I3-AM02-24-3)  Wed Aug 27 00:00:00 UTC 2025' }), readOnly: true },
      dpkg(PRE),
      { command: `sha256sum -- ${BLACKLIST}`, stdout: `${contentDigest(NOUVEAU_BLACKLIST)}  ${BLACKLIST}\n`, readOnly: true },
      { command: 'systemctl is-enabled nvidia-persistenced', stdout: 'enabled\n', readOnly: true },
      { command: 'systemctl is-active nvidia-persistenced', stdout: 'active\n', readOnly: true },
      { command: 'nvidia-smi --query-gpu=name,driver_version --format=csv,noheader', stdout: H100, readOnly: true },
    ]);
    expect(await gpuDriverPhase.isDone(target(ctx, host), ctx, {})).toBe(true);
    expect(host.mutating()).toEqual([]);
    expect(host.unmet()).toEqual([]);
  });

  it('refuses before any change when the repo has neither a precompiled module nor headers for the kernel', async () => {
    const ctx = debianGpuContext();
    const host = new FakeHost('gpu-1', [{ command: /^echo ==ferry:gpus==/, stdout: probe(['nvidia-container-toolkit']), readOnly: true, times: 2 }]);
    expect(await gpuDriverPhase.isDone(target(ctx, host), ctx, {})).toBe(false);
    const err = await gpuDriverPhase.run(target(ctx, host), ctx, {}).catch((e: Error & { hint?: string }) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^gpu-1 runs kernel 6\.1\.0-37-amd64, .*missing linux-headers-6\.1\.0-37-amd64/);
    expect((err as { hint?: string }).hint).toBe('rebuild the bundle for this kernel: ferry bundle build --kernel 6.1.0-37-amd64 (then copy it and run install again)');
    expect(host.mutating()).toEqual([]);
    expect(host.written.size).toBe(0);
  });

  it('fails with the reboot instruction when an older module is loaded, and never reboots', async () => {
    const ctx = debianGpuContext();
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:gpus==/, stdout: probe(PRE, { loaded: 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.15  Release Build  (dvs-builder@U16-I3-B03-4-3)  Tue Mar  5 00:00:00 UTC 2024' }), readOnly: true },
      { command: `sha256sum -- ${BLACKLIST}`, stdout: `${contentDigest(NOUVEAU_BLACKLIST)}  ${BLACKLIST}\n`, readOnly: true },
      dpkg(PRE),
      { command: 'systemctl enable --now nvidia-persistenced', readOnly: false },
      { command: 'nvidia-smi --query-gpu=name,driver_version --format=csv,noheader', exitCode: 18, stdout: 'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 580.82\n', readOnly: false },
    ]);
    await expect(gpuDriverPhase.run(target(ctx, host), ctx, {})).rejects.toThrow('gpu-1: the NVIDIA 580 driver is installed but the loaded kernel module is 550.54.15, so it cannot load');
    expect(host.mutating().some((c) => /reboot|shutdown|systemctl (reboot|kexec)/.test(c))).toBe(false);
    expect(host.unmet()).toEqual([]);
  });
  it('fails naming the host when a real nvidia-smi exits 0 and prints nothing (only a dry-run host records that)', async () => {
    const ctx = debianGpuContext();
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:gpus==/, stdout: probe(PRE), readOnly: true },
      { command: `sha256sum -- ${BLACKLIST}`, stdout: `${contentDigest(NOUVEAU_BLACKLIST)}  ${BLACKLIST}\n`, readOnly: true },
      dpkg(PRE),
      { command: 'systemctl enable --now nvidia-persistenced', readOnly: false },
      { command: 'nvidia-smi --query-gpu=name,driver_version --format=csv,noheader', exitCode: 0, stdout: '', readOnly: false },
    ]);
    await expect(gpuDriverPhase.run(target(ctx, host), ctx, {})).rejects.toThrow(
      'gpu-1: nvidia-smi exited 0 but listed no GPU (empty output): on gpu-1, check that the GPUs are visible (lspci -d 10de:) and the nvidia module is loaded (lsmod | grep nvidia), then run the same install again',
    );
    expect(host.unmet()).toEqual([]);
  });
});

describe('gpu-driver on EL', () => {
  it('installs NVIDIA\'s precompiled kmod for the running kernel from the branch stream with dnf, then dracut', async () => {
    const ctx = phaseContext('el');
    ctx.lock!.stack.nvidiaDriver = { branch: 'R580', version: '580.82.07', kernelModule: 'proprietary' };
    // phaseContext's facts: Rocky 8.6, kernel 4.18.0-372.19.1.el8_6.x86_64.
    const kmod = 'kmod-nvidia-580.82.07-4.18.0-372.19.1';
    const offered = `${kmod} ${kmod}-580.82.07-3.el8_6.x86_64\nnvidia-driver-cuda nvidia-driver-cuda-580.82.07-1.el8.x86_64\nnvidia-container-toolkit nvidia-container-toolkit-1.17.8-1.x86_64\n`;
    const rpm = (extra: string[]) => ({ command: /^(sh -c ')?rpm -qa /, stdout: fixture('el-rpm-qa.txt') + extra.map((n) => `ii ${n}\n`).join(''), readOnly: true });
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:gpus==.*dnf -q '--disablerepo=\*' --enablerepo=ferry repoquery/s, stdout: `==ferry:gpus==\n0000:18:00.0 0x030200\n==ferry:initramfs==\n/usr/bin/dracut\n==ferry:offered==\n${offered}==ferry:loaded==\n`, readOnly: true },
      { command: `sha256sum -- ${BLACKLIST}`, exitCode: 1, readOnly: true },
      { command: /^install -D -m 644 \/var\/lib\/ferry\/staging\/ferry-blacklist-nouveau\.conf /, readOnly: false },
      { ...rpm([]), times: 2 },
      { command: "dnf -y -q '--disablerepo=*' --enablerepo=ferry makecache", readOnly: false },
      { command: `dnf -y -q '--disablerepo=*' --enablerepo=ferry install @nvidia-driver:580 ${kmod} nvidia-driver-cuda nvidia-container-toolkit`, readOnly: false },
      rpm([kmod, 'nvidia-driver-cuda', 'nvidia-container-toolkit', 'nvidia-persistenced']),
      { command: 'cat /var/lib/ferry/packages/gpu-driver.list', exitCode: 1, readOnly: true },
      { command: 'dracut --force', readOnly: false },
      { command: 'systemctl enable --now nvidia-persistenced', readOnly: false },
      { command: 'nvidia-smi --query-gpu=name,driver_version --format=csv,noheader', stdout: 'NVIDIA H100 80GB HBM3, 580.82.07\n', readOnly: false },
    ]);
    await gpuDriverPhase.run(target(ctx, host), ctx, {});
    expect(host.unmet()).toEqual([]);
    expect(host.written.get('/var/lib/ferry/packages/gpu-driver.list')?.data).toBe(`${[kmod, 'nvidia-container-toolkit', 'nvidia-driver-cuda', 'nvidia-persistenced'].join('\n')}\n`);
  });
});

describe('gpu-addons', () => {
  const ctxWithPlugin = () => {
    const ctx = debianGpuContext();
    ctx.lock!.images.push({ ref: 'nvcr.io/nvidia/k8s-device-plugin:v0.18.2', component: 'nvidia-device-plugin', critical: true });
    return ctx;
  };
  const nodes = (labelled: string[]) => JSON.stringify({
    apiVersion: 'v1', kind: 'List',
    items: ['cp-1', 'gpu-1', 'gpu-2'].map((name) => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(labelled.includes(name) ? { 'nvidia.com/gpu.present': 'true' } : {}) } } })),
  });

  it('runs on the first control plane only', () => {
    expect(gpuAddonsPhase.targets(ctxWithPlugin(), {}).map((h) => h.name)).toEqual(['cp-1']);
  });

  it('places the manifest, applies it server-side and labels every GPU node', async () => {
    const ctx = ctxWithPlugin();
    const k = 'kubectl --kubeconfig /etc/kubernetes/admin.conf';
    const host = new FakeHost('cp-1', [
      { command: 'sha256sum -- /etc/ferry/gpu-addons.yaml', exitCode: 1, readOnly: true, times: 2 },
      { command: 'install -D -m 644 /var/lib/ferry/staging/gpu-addons.yaml /etc/ferry/gpu-addons.yaml && rm -f /var/lib/ferry/staging/gpu-addons.yaml', readOnly: false },
      { command: `${k} apply --server-side --force-conflicts -f /etc/ferry/gpu-addons.yaml`, stdout: 'runtimeclass.node.k8s.io/nvidia serverside-applied\n', readOnly: false },
      { command: `${k} label node gpu-1 nvidia.com/gpu.present=true --overwrite`, readOnly: false },
      { command: `${k} label node gpu-2 nvidia.com/gpu.present=true --overwrite`, readOnly: false },
    ]);
    expect(await gpuAddonsPhase.isDone(target(ctx, host), ctx, {})).toBe(false);
    await gpuAddonsPhase.run(target(ctx, host), ctx, {});
    expect(host.written.get('/var/lib/ferry/staging/gpu-addons.yaml')?.data).toContain('registry.ferry.internal:5000/nvcr.io/nvidia/k8s-device-plugin:v0.18.2');
    expect(host.unmet()).toEqual([]);
  });

  it('is done when the manifest matches and every GPU node carries the label', async () => {
    const ctx = ctxWithPlugin();
    const file = renderGpuAddons({ images: ctx.lock!.images, registry: 'registry.ferry.internal:5000' });
    const sum = { command: 'sha256sum -- /etc/ferry/gpu-addons.yaml', stdout: `${contentDigest(file.content)}  ${file.path}\n`, readOnly: true, times: 2 };
    const get = 'kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json';
    const host = new FakeHost('cp-1', [sum, { command: get, stdout: nodes(['gpu-1', 'gpu-2']), readOnly: true }, { command: get, stdout: nodes(['gpu-1']), readOnly: true }]);
    expect(await gpuAddonsPhase.isDone(target(ctx, host), ctx, {})).toBe(true);
    expect(await gpuAddonsPhase.isDone(target(ctx, host), ctx, {})).toBe(false);
    expect(labelledNodes(nodes(['gpu-2']))).toEqual(new Set(['gpu-2']));
  });
});
