// gpu-driver and gpu-addons against the strict scripted host: the exact commands of a precompiled install, a
// converged node (an empty plan from packages, files, nvidia-persistenced and nvidia-smi), the refusal that touches
// nothing, the reboot a loaded old module needs; gpu-addons by a table of observations → steps and a run through
// the runner (applied and labelled through kubectl). Outputs:
// dpkg-query lines in its real format, nvidia-smi CSV as an H100 node prints it (see test/gpu/smi-verdict.test.ts).
import { describe, expect, it } from 'vitest';
import { NOUVEAU_BLACKLIST } from '../../src/gpu/driver-plan.ts';
import { gpuAddonsPhase, labelledNodes, planGpuAddons, type AddonsSeen } from '../../src/phases/gpu-addons.ts';
import { gpuDriverPhase, otherBranchPins, planGpuDriver } from '../../src/phases/gpu-driver.ts';
import { debianFamily } from '../../src/phases/os/debian.ts';
import { rememberNodeFacts } from '../../src/phases/node-facts.ts';
import { parseNodeFacts } from '../../src/facts/node.ts';
import { nodeGatherOutput } from '../facts/fixtures.ts';
import { contentDigest } from '../../src/phases/place-files.ts';
import { renderGpuAddons } from '../../src/render/gpu-addons.ts';
import { renderedFile } from '../../src/render/file.ts';
import { runPhases } from '../../src/phases/runner.ts';
import { describeStep } from '../../src/phases/step.ts';
import { FakeHost } from '../support/fake-host.ts';
import { fixture } from './fixtures.ts';
import { phaseContext } from './phase-context.ts';
import { lines, observeAndPlan } from './plan-support.ts';

const KERNEL = '6.1.0-37-amd64';
const PRE = ['linux-modules-nvidia-580-server-open-6.1.0-37-amd64', 'nvidia-utils-580-server', 'nvidia-compute-utils-580-server', 'nvidia-container-toolkit'];
const H100 = 'NVIDIA H100 80GB HBM3, 580.82.07\nNVIDIA H100 80GB HBM3, 580.82.07\n';
const BLACKLIST = '/etc/modprobe.d/ferry-blacklist-nouveau.conf';

function debianGpuContext() {
  const ctx = phaseContext('debian');
  const h = ctx.inventory.hosts.find((x) => x.name === 'gpu-1')!;
  rememberNodeFacts(ctx.state, 'gpu-1', parseNodeFacts('gpu-1', nodeGatherOutput(fixture('debian12-os-release'), h.address, { kernel: KERNEL }), h.address));
  return ctx;
}

const probe = (offered: string[], options: { initramfs?: string; loaded?: string } = {}) =>
  `==ferry:gpus==\n0000:18:00.0 0x030200\n0000:2a:00.0 0x030200\n==ferry:initramfs==\n${options.initramfs ?? ''}\n==ferry:offered==\n${['containerd', 'runc', ...offered].join('\n')}\n==ferry:loaded==\n${options.loaded ?? ''}\n`;
const dpkg = (names: string[]) => ({ command: /^dpkg-query -W /, stdout: [...fixture('debian12-lab-dpkg-query.txt').trim().split('\n'), ...names.map((n) => `ii  ${n}`)].join('\n') + '\n', readOnly: true });
const target = (ctx: ReturnType<typeof phaseContext>, host: FakeHost) => ({ spec: ctx.inventory.hosts.find((h) => h.name === host.name)!, host });

const APT = 'apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 install --no-install-recommends';
const smiAnswers = (stdout: string, exitCode = 0) => ({ command: 'nvidia-smi --query-gpu=name,driver_version --format=csv,noheader', stdout, exitCode, readOnly: true });
const persistenced = (state: 'enabled' | 'disabled', active: 'active' | 'inactive') => [
  { command: 'systemctl is-enabled nvidia-persistenced', stdout: `${state}\n`, exitCode: state === 'enabled' ? 0 : 1, readOnly: true },
  { command: 'systemctl is-active nvidia-persistenced', stdout: `${active}\n`, exitCode: active === 'active' ? 0 : 3, readOnly: true },
];
const blacklisted = { command: `sha256sum -- ${BLACKLIST}`, stdout: `${contentDigest(NOUVEAU_BLACKLIST)}  ${BLACKLIST}\n`, readOnly: true };

describe('gpu-driver', () => {
  it('targets the hosts with role gpu', () => {
    expect(gpuDriverPhase.targets(debianGpuContext(), {}).map((h) => h.name)).toEqual(['gpu-1', 'gpu-2']);
  });

  it('plans the precompiled driver for the running kernel, nouveau blacklisted first, the initramfs, persistenced', async () => {
    const ctx = debianGpuContext();
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:gpus==/, stdout: probe(PRE, { initramfs: '/usr/sbin/update-initramfs' }), readOnly: true },
      { command: `sha256sum -- ${BLACKLIST}`, exitCode: 1, readOnly: true },
      dpkg([]),
      ...persistenced('disabled', 'inactive'),
      smiAnswers('', 127),
    ]);
    const { steps } = await observeAndPlan(gpuDriverPhase, ctx, host);
    expect(lines(steps)).toEqual([`place ${BLACKLIST}`, `${APT} ${PRE.join(' ')}`, 'update-initramfs -u', 'systemctl enable --now nvidia-persistenced']);
    expect(steps[0]).toMatchObject({ kind: 'place', file: { content: NOUVEAU_BLACKLIST } });
    expect(steps[1]).toMatchObject({ kind: 'packages', phase: 'gpu-driver' });
    expect(host.mutating()).toEqual([]);
    expect(host.unmet()).toEqual([]);
  });

  it('plans nothing on a converged node: packages, blacklist, persistenced and nvidia-smi on the locked branch', async () => {
    const ctx = debianGpuContext();
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:gpus==/, stdout: probe(PRE, { loaded: 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.82.07  Release Build  (dvs-builder@U22-I3-AM02-24-3)  Wed Aug 27 00:00:00 UTC 2025' }), readOnly: true },
      dpkg(PRE), blacklisted, ...persistenced('enabled', 'active'), smiAnswers(H100),
    ]);
    expect((await observeAndPlan(gpuDriverPhase, ctx, host)).steps).toEqual([]);
    expect(host.mutating()).toEqual([]);
    expect(host.unmet()).toEqual([]);
  });

  it('refuses before any change when the repo has neither a precompiled module nor headers for the kernel', async () => {
    const ctx = debianGpuContext();
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:gpus==/, stdout: probe(['nvidia-container-toolkit']), readOnly: true },
      { command: `sha256sum -- ${BLACKLIST}`, exitCode: 1, readOnly: true }, ...persistenced('disabled', 'inactive'), smiAnswers('', 127),
    ]);
    const err = await observeAndPlan(gpuDriverPhase, ctx, host).catch((e: Error & { hint?: string }) => e);
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
      blacklisted, dpkg(PRE), ...persistenced('enabled', 'active'),
      smiAnswers('Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 580.82\n', 18),
    ]);
    await expect(observeAndPlan(gpuDriverPhase, ctx, host)).rejects.toThrow('gpu-1: the NVIDIA 580 driver is installed but the loaded kernel module is 550.54.15, so it cannot load');
    expect(host.mutating()).toEqual([]);
    expect(host.unmet()).toEqual([]);
  });

  it('an upgrade to a new branch: the old branch\'s pin purged first, then every package of the plan installed again', async () => {
    // What the node has after an install of branch 570 (its pin and driver packages by name), with the lock now at 580.
    const ctx = debianGpuContext();
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:gpus==/, stdout: probe(PRE, { loaded: 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.195.03  Release Build  (dvs-builder@U22-I3-AM02-24-3)  Wed Aug 27 00:00:00 UTC 2025' }), readOnly: true },
      dpkg([...PRE, 'nvidia-driver-pinning-570']), blacklisted, ...persistenced('enabled', 'active'),
      smiAnswers('NVIDIA H100 80GB HBM3, 570.195.03\nNVIDIA H100 80GB HBM3, 570.195.03\n'),
    ]);
    const { steps } = await observeAndPlan(gpuDriverPhase, ctx, host);
    expect(lines(steps)).toEqual([
      'apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 purge nvidia-driver-pinning-570',
      `${APT} ${PRE.join(' ')}`,
    ]);
    expect(host.mutating()).toEqual([]);
  });

  it('fails naming the host when nvidia-smi exits 0 and prints nothing', async () => {
    const ctx = debianGpuContext();
    const host = new FakeHost('gpu-1', [{ command: /^echo ==ferry:gpus==/, stdout: probe(PRE), readOnly: true }, blacklisted, dpkg(PRE), ...persistenced('enabled', 'active'), smiAnswers('')]);
    await expect(observeAndPlan(gpuDriverPhase, ctx, host)).rejects.toThrow(
      'gpu-1: nvidia-smi exited 0 but listed no GPU (empty output): on gpu-1, check that the GPUs are visible (lspci -d 10de:) and the nvidia module is loaded (lsmod | grep nvidia), then run the same install again',
    );
  });

  it('decides from the observation alone (table)', () => {
    const base = { host: 'gpu-1', family: debianFamily, driver: { kind: 'precompiled' as const, install: ['a', 'b'], installed: ['a', 'b'], branch: 580, initramfs: ['update-initramfs', '-u'] }, loaded: undefined, missing: [], blacklistChanged: false, persistenced: { enabled: true, active: true }, smi: { exitCode: 0, stdout: H100, stderr: '' } };
    expect(lines(planGpuDriver(base))).toEqual([]);
    expect(lines(planGpuDriver({ ...base, missing: ['b'] }))).toEqual([`${APT} a b`]);
    expect(lines(planGpuDriver({ ...base, persistenced: { enabled: true, active: false } }))).toEqual(['systemctl enable --now nvidia-persistenced']);
    // The initramfs is rebuilt only when the blacklist changes (the driver packages rebuild their own).
    expect(lines(planGpuDriver({ ...base, blacklistChanged: true }))).toEqual([`place ${BLACKLIST}`, 'update-initramfs -u']);
    // With work still to do, nvidia-smi's answer is not judged yet (the driver is not there).
    expect(lines(planGpuDriver({ ...base, missing: ['a'], smi: { exitCode: 127, stdout: '', stderr: 'nvidia-smi: not found' } }))).toEqual([`${APT} a b`]);
    // Another branch's pin: purged, then the whole plan installed again (nothing missing by name).
    expect(lines(planGpuDriver({ ...base, otherBranchPins: ['nvidia-driver-pinning-570'] }))).toEqual([expect.stringMatching(/ purge nvidia-driver-pinning-570$/), `${APT} a b`]);
    expect(otherBranchPins(['nvidia-driver-pinning-580', 'nvidia-driver-pinning-570', 'nvidia-open', 'nvidia-driver-pinning-595'], 580)).toEqual(['nvidia-driver-pinning-570', 'nvidia-driver-pinning-595']);
  });
});

describe('gpu-driver on EL', () => {
  it('plans NVIDIA\'s precompiled kmod for the running kernel from the branch stream with dnf, then dracut', async () => {
    const ctx = phaseContext('el');
    ctx.lock!.stack.nvidiaDriver = { branch: 'R580', version: '580.82.07', kernelModule: 'proprietary' };
    // phaseContext's facts: Rocky 8.6, kernel 4.18.0-372.19.1.el8_6.x86_64.
    const kmod = 'kmod-nvidia-580.82.07-4.18.0-372.19.1';
    const offered = `${kmod} ${kmod}-580.82.07-3.el8_6.x86_64\nnvidia-driver-cuda nvidia-driver-cuda-580.82.07-1.el8.x86_64\nnvidia-container-toolkit nvidia-container-toolkit-1.17.8-1.x86_64\n`;
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:gpus==.*dnf -q '--disablerepo=\*' --enablerepo=ferry repoquery/s, stdout: `==ferry:gpus==\n0000:18:00.0 0x030200\n==ferry:initramfs==\n/usr/bin/dracut\n==ferry:offered==\n${offered}==ferry:loaded==\n`, readOnly: true },
      { command: `sha256sum -- ${BLACKLIST}`, exitCode: 1, readOnly: true },
      { command: /^(sh -c ')?rpm -qa /, stdout: fixture('el-rpm-qa.txt'), readOnly: true },
      ...persistenced('disabled', 'inactive'), smiAnswers('', 127),
    ]);
    const { steps } = await observeAndPlan(gpuDriverPhase, ctx, host);
    expect(lines(steps)).toEqual([
      `place ${BLACKLIST}`, `dnf -y -q --disablerepo=* --enablerepo=ferry --disableexcludes=ferry install @nvidia-driver:580 ${kmod} nvidia-driver-cuda nvidia-container-toolkit`,
      'dracut --force', 'systemctl enable --now nvidia-persistenced',
    ]);
    expect(steps[1]).toMatchObject({ kind: 'packages', refresh: { argv: ['dnf', '-y', '-q', '--disablerepo=*', '--enablerepo=ferry', 'makecache'] } });
    expect(host.unmet()).toEqual([]);
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

  const k = 'kubectl --kubeconfig /etc/kubernetes/admin.conf';
  const file = renderedFile('/etc/ferry/gpu-addons.yaml', 'kind: RuntimeClass\n');
  const APPLY = `${k} apply --server-side --force-conflicts -f /etc/ferry/gpu-addons.yaml`;
  const label = (n: string) => `${k} label node ${n} nvidia.com/gpu.present=true --overwrite`;
  it.each<[string, AddonsSeen, string[]]>([
    ['fresh: placed, applied, every GPU node labelled', { changed: [file], gpuNodes: ['gpu-1', 'gpu-2'], labelled: [] }, ['place /etc/ferry/gpu-addons.yaml', APPLY, label('gpu-1'), label('gpu-2')]],
    ['the manifest as rendered, one node unlabelled (added): applied, labelled', { changed: [], gpuNodes: ['gpu-1', 'gpu-2'], labelled: ['gpu-1'] }, [APPLY, label('gpu-1'), label('gpu-2')]],
    ['the API did not answer: applied, labelled', { changed: [], gpuNodes: ['gpu-1'] }, [APPLY, label('gpu-1')]],
    ['as rendered and every GPU node labelled: nothing', { changed: [], gpuNodes: ['gpu-1', 'gpu-2'], labelled: ['gpu-2', 'gpu-1'] }, []],
  ])('%s', (_, seen, want) => {
    expect(planGpuAddons(seen).map(describeStep)).toEqual(want);
  });

  it('a run places the manifest, applies it server-side and labels every GPU node; the next round finds it done', async () => {
    const ctx = ctxWithPlugin();
    const rendered = renderGpuAddons({ images: ctx.lock!.images, registry: 'registry.ferry.internal:5000' });
    const host = new FakeHost('cp-1', [
      { command: 'sha256sum -- /etc/ferry/gpu-addons.yaml', exitCode: 1, readOnly: true },
      { command: `${k} get nodes -o json`, stdout: nodes([]), readOnly: true },
      { command: 'install -D -m 644 /var/lib/ferry/staging/gpu-addons.yaml /etc/ferry/gpu-addons.yaml && rm -f /var/lib/ferry/staging/gpu-addons.yaml', readOnly: false },
      { command: APPLY, stdout: 'runtimeclass.node.k8s.io/nvidia serverside-applied\n', readOnly: false },
      { command: label('gpu-1'), readOnly: false },
      { command: label('gpu-2'), readOnly: false },
      { command: 'sha256sum -- /etc/ferry/gpu-addons.yaml', stdout: `${contentDigest(rendered.content)}  ${rendered.path}\n`, readOnly: true },
      { command: `${k} get nodes -o json`, stdout: nodes(['gpu-1', 'gpu-2']), readOnly: true },
    ]);
    const [report] = await runPhases([{ phase: gpuAddonsPhase, params: {} }], ctx, { concurrency: 1, hostFor: () => host });
    expect(report!.hosts).toEqual({ 'cp-1': 'ran' });
    expect(host.written.get('/var/lib/ferry/staging/gpu-addons.yaml')?.data).toContain('registry.ferry.internal:5000/nvcr.io/nvidia/k8s-device-plugin:v0.18.2');
    expect(host.unmet()).toEqual([]);
    expect(labelledNodes(nodes(['gpu-2']))).toEqual(new Set(['gpu-2']));
  });
});
