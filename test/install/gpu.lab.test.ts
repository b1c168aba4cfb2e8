// gpu-driver end to end on lab nodes (Debian 12 under systemd-nspawn, 2 nodes: cp1, and g1 with role gpu) with
// STAND-INs for what this machine lacks: the GPU (a PCI device entry, vendor 0x10de class 0x030200 device 0x2330
// like an H100 SXM5, on a tmpfs mounted over g1's /sys/bus/pci/devices) and the NVIDIA driver/toolkit packages
// (test/stand-ins/nvidia/, named as the real precompiled packages for g1's running kernel). The bundle is the lab
// bundle plus those .debs, resealed with ferry's code. Proves: refusal with no change when the repo has neither a
// precompiled module nor headers for the kernel; install; nvidia-smi on the locked branch; containerd's nvidia
// runtime really running a container through the toolkit's runtime; a converged re-run with 0 mutating commands;
// the reboot demand when an old module is loaded; reset.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { memoryIo } from '../../src/cli/io.ts';
import { run } from '../../src/cli/program.ts';
import type { AuditRecord } from '../../src/state/audit.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { makeTinyImage } from '../../src/lab/oci-image.ts';
import { ensureBaseRootfs } from '../../src/lab/rootfs.ts';
import { addressIn } from '../lab/subnet.ts';
import { nvidiaStandInDebs } from '../stand-ins/nvidia/debs.ts';
import { bundleWithDebs } from './support/gpu-bundle.ts';
import { labBundle, labLock } from './support/lab-bundle.ts';

const DRIVER = { branch: 'R580', version: '580.82.07', kernelModule: 'open' as const };
const PHASES = 'preflight,copy-bundle,local-repo,os-prepare,container-runtime,gpu-driver';
let lab: Lab;
let inventory: string;
let stateDir: string;
let lock: string;
let kernel: string;
let withoutModules: string;
let withModules: string;
let packagesBeforeGpu: string;

async function ferry(argv: string[]) {
  const io = memoryIo();
  const started = performance.now();
  const code = await run(argv, { io, now: () => new Date(), cwd: process.cwd(), env: { HOME: process.env.HOME } });
  return { code, out: io.out(), err: io.err(), ms: Math.round(performance.now() - started) };
}
const install = (bundle: string, only = PHASES) => ferry(['install', '-i', inventory, '--bundle', bundle, '--lock', lock, '--state-dir', stateDir, '--only', only]);
const g1 = (argv: string[]) => lab.nodeExec('g1', argv, { allowFailure: true });
const nvidiaPackages = async () => (await g1(['dpkg-query', '-W', '-f', '${Package} ${db:Status-Abbrev}\n'])).stdout.split('\n').filter((l) => /nvidia/.test(l) && / ii ?$/.test(l));
async function audit(): Promise<AuditRecord[]> {
  return (await readFile(join(stateDir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

beforeAll(async () => {
  lab = await startLab({ nodes: ['cp1', 'g1'] });
  stateDir = join(lab.stateDir, 'ferry-state');
  kernel = (await g1(['uname', '-r'])).stdout.trim();
  const installed = (await lab.nodeExec('cp1', ['dpkg-query', '-W', '-f', '${Package}\n'])).stdout.split('\n').filter(Boolean);
  const base = await labBundle(installed);
  const debs = await nvidiaStandInDebs(DRIVER.version, kernel);
  withoutModules = await bundleWithDebs(base.dir, debs.dir, debs.userland);
  withModules = await bundleWithDebs(base.dir, debs.dir, [debs.modules, ...debs.userland]);
  const l = labLock([
    { ref: 'registry.k8s.io/pause:3.10', component: 'kubernetes', critical: true },
    { ref: 'nvcr.io/nvidia/k8s-device-plugin:v0.18.2', component: 'nvidia-device-plugin', critical: true },
  ]);
  lock = join(lab.stateDir, 'gpu-lock.yaml');
  await writeFile(lock, stringify({ ...l, gpu: { model: 'H100', architecture: 'hopper' }, stack: { ...l.stack, nvidiaDriver: DRIVER } }));
  inventory = await lab.writeInventory({
    roles: { cp1: ['control-plane'], g1: ['worker', 'gpu'] },
    extra: { network: { controlPlaneEndpoint: `${addressIn(lab.subnet, 100)}:8443`, encapsulation: 'vxlan' } },
  });
  // The GPU stand-in: one NVIDIA display controller where the kernel lists PCI devices, in g1's mount namespace only.
  const pci = '/sys/bus/pci/devices';
  const dev = `${pci}/0000:18:00.0`;
  const mount = await lab.nodeExec('g1', ['sh', '-c', `mount -t tmpfs -o size=64k ferry-gpu-stand-in ${pci} && mkdir ${dev} && echo 0x10de > ${dev}/vendor && echo 0x2330 > ${dev}/device && echo 0x030200 > ${dev}/class`]);
  expect(mount.exitCode, mount.stderr).toBe(0);
}, 900_000);

afterAll(async () => {
  await lab?.stop();
});

describe('gpu-driver on lab nodes', () => {
  it('refuses in preflight, changing nothing, when the bundle has neither a precompiled module nor headers for the running kernel', async () => {
    const r = await install(withoutModules);
    expect(r.code, r.out).toBe(7);
    expect(r.err).toContain(`g1 runs kernel ${kernel}, and the bundle carries neither a precompiled NVIDIA ${DRIVER.version} driver nor the kernel headers for it`);
    expect(r.err).toContain(`--kernel ${kernel}`);
    // preflight stops the install before any phase changes a node.
    expect((await audit()).filter((a) => !a.readOnly)).toEqual([]);
    expect(await nvidiaPackages()).toEqual([]);
    expect((await g1(['test', '-e', '/etc/modprobe.d/ferry-blacklist-nouveau.conf'])).exitCode).toBe(1);
    // The phases before gpu-driver, so reset can be compared with the node as it was just before the driver.
    const before = await install(withModules, PHASES.replace(',gpu-driver', ''));
    expect(before.code, before.err).toBe(0);
    expect((await g1(['cat', '/etc/containerd/config.toml'])).stdout).toContain('BinaryName = "/usr/bin/nvidia-container-runtime"');
    expect((await lab.nodeExec('cp1', ['cat', '/etc/containerd/config.toml'])).stdout).not.toContain('nvidia');
    packagesBeforeGpu = (await g1(['dpkg-query', '-W', '-f', '${Package} ${Version}\n'])).stdout;
  }, 600_000);

  it('installs the precompiled driver for the kernel; nvidia-smi answers the locked branch; containers run through the nvidia runtime', async () => {
    const r = await install(withModules);
    expect(r.code, r.err).toBe(0);
    console.log(`[gpu] install with the precompiled stand-in: ${r.ms} ms`);
    expect((await nvidiaPackages()).map((l) => l.split(' ')[0]).sort()).toEqual(
      [`linux-modules-nvidia-580-server-open-${kernel}`, 'nvidia-compute-utils-580-server', 'nvidia-container-toolkit', 'nvidia-utils-580-server'],
    );
    expect((await g1(['nvidia-smi', '--query-gpu=name,driver_version', '--format=csv,noheader'])).stdout).toBe('NVIDIA H100 80GB HBM3, 580.82.07\n');
    expect((await g1(['cat', '/etc/modprobe.d/ferry-blacklist-nouveau.conf'])).stdout).toContain('blacklist nouveau');
    expect((await g1(['systemctl', 'is-active', 'nvidia-persistenced'])).stdout.trim()).toBe('active');
    const calls = (await g1(['cat', '/var/log/ferry-stand-in/calls.jsonl'])).stdout;
    expect(calls).toContain('"tool":"nvidia-smi","argv":["--query-gpu=name,driver_version","--format=csv,noheader"]');
    expect(calls).not.toContain('"tool":"nvidia-ctk"');
    // containerd with the nvidia handler's binary: a real container, started by runc through the toolkit's runtime.
    const node = lab.nodes.find((n) => n.name === 'g1')!;
    await makeTinyImage((await ensureBaseRootfs()).dir, join(node.root, 'root'), 'docker.io/ferry/tiny:1');
    expect((await g1(['ctr', 'images', 'import', '/root/tiny-image.tar'])).exitCode).toBe(0);
    const ran = await g1(['ctr', 'run', '--rm', '--runc-systemd-cgroup', '--cgroup', 'system.slice:ferry:gpu1', '--runc-binary', '/usr/bin/nvidia-container-runtime', 'docker.io/ferry/tiny:1', 'gpu1', '/bin/sh', '-c', 'echo through-nvidia-runtime']);
    expect(ran.stdout, ran.stderr).toContain('through-nvidia-runtime');
    expect((await g1(['cat', '/var/log/ferry-stand-in/calls.jsonl'])).stdout).toMatch(/"tool":"nvidia-container-runtime","argv":\[[^\]]*"create"/);
    await g1(['ctr', 'images', 'rm', 'docker.io/ferry/tiny:1']);
    await g1(['rm', '-f', '/root/tiny-image.tar']);
    expect((await g1(['ctr', 'version'])).exitCode).toBe(0);
  }, 600_000);

  it('a second run finds everything done: zero mutating commands', async () => {
    const start = (await audit()).length;
    const r = await install(withModules);
    expect(r.code, r.err).toBe(0);
    console.log(`[gpu] converged re-run: ${r.ms} ms`);
    const records = (await audit()).slice(start);
    expect(records.filter((a) => !a.readOnly)).toEqual([]);
    expect(records.some((a) => a.phase === 'gpu-driver' && a.command.startsWith('nvidia-smi'))).toBe(true);
  }, 600_000);

  it('demands a reboot (and does none) while an older module is loaded; after the "reboot" the same command finishes', async () => {
    await g1(['sh', '-c', 'echo 550.54.15 > /run/ferry-stand-in/nvidia-loaded']);
    const r = await install(withModules, 'preflight,gpu-driver');
    expect(r.code).toBe(7);
    expect(r.err).toContain('g1: the NVIDIA 580 driver is installed but the loaded kernel module is an older one, so it cannot load');
    expect(r.err).toContain('reboot g1 (ferry never reboots a node by itself)');
    await g1(['rm', '-f', '/run/ferry-stand-in/nvidia-loaded']); // what a reboot does to the loaded module list
    const again = await install(withModules, 'preflight,gpu-driver');
    expect(again.code, again.err).toBe(0);
  }, 600_000);

  it('reset removes the driver, the toolkit and the blacklist: packages as before the phase', async () => {
    const r = await ferry(['reset', '-i', inventory, '--state-dir', stateDir, '--only', 'preflight,reset-gpu-driver']);
    expect(r.code, r.err).toBe(0);
    expect(await nvidiaPackages()).toEqual([]);
    expect((await g1(['dpkg-query', '-W', '-f', '${Package} ${Version}\n'])).stdout).toBe(packagesBeforeGpu);
    expect((await g1(['test', '-e', '/etc/modprobe.d/ferry-blacklist-nouveau.conf'])).exitCode).toBe(1);
    expect((await g1(['sh', '-c', 'ls /etc/systemd/system/multi-user.target.wants/ | grep nvidia; true'])).stdout).toBe('');
  }, 600_000);
});
