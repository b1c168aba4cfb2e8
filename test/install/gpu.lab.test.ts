// gpu-driver end to end on lab nodes (Debian 12 under systemd-nspawn, 2 nodes: cp1, and g1 with role gpu), from a
// bundle built the way the README says: `ferry resolve --gpu h100` (the driver branch and version come from the
// lock), `ferry bundle build` with the SHIPPED spec and `--kernel <g1's uname -r>` through the offline replica of the
// upstreams (support/site-bundle.ts), `ferry bundle verify`. STAND-INs for what this machine lacks: the GPU (a PCI
// device entry, vendor 0x10de class 0x030200 device 0x2330 like an H100 SXM5, on a tmpfs mounted over g1's
// /sys/bus/pci/devices) and NVIDIA's packages, served by the replica's CUDA and libnvidia-container repositories
// under the names NVIDIA's Debian 12 repositories use (test/stand-ins/nvidia/: DKMS only, as NVIDIA publishes for
// Debian), plus linux-headers-<lab kernel>, which Debian does not have for this machine's kernel.
// Proves: a bundle built for another kernel is refused by preflight with nothing changed, naming host, kernel and
// the `--kernel` fix; the DKMS install (headers, gcc, make, dkms from the bundle; the module built for the kernel);
// nvidia-smi on the locked branch; containerd's nvidia runtime really running a container through the toolkit's
// runtime; a converged re-run with 0 mutating commands; the reboot demand when an old module is loaded; reset.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/bundle/manifest.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { makeTinyImage } from '../../src/lab/oci-image.ts';
import { ensureBaseRootfs } from '../../src/lab/rootfs.ts';
import { addressIn } from '../lab/subnet.ts';
import { auditRecords, expectConvergedGpuRerun } from './support/converged.ts';
import { buildSiteBundle, ferry, siteBundle, type SiteBundle } from './support/site-bundle.ts';

const PHASES = 'preflight,copy-bundle,local-repo,os-prepare,container-runtime,gpu-driver';
let lab: Lab;
let site: SiteBundle;
let inventory: string;
let stateDir: string;
let kernel: string;
let otherKernel: string;
let otherBundle: string;
let packagesBeforeGpu: string;
const figures: string[] = [];

const install = (bundle: string, only = PHASES) => ferry(['install', '-i', inventory, '--bundle', bundle, '--state-dir', stateDir, '--only', only]);
const g1 = (argv: string[]) => lab.nodeExec('g1', argv, { allowFailure: true });
const installedPackages = async () => (await g1(['dpkg-query', '-W', '-f', '${Package} ${db:Status-Abbrev}\n'])).stdout.split('\n').filter((l) => / ii ?$/.test(l)).map((l) => l.split(' ')[0]!);
const nvidiaPackages = async () => (await installedPackages()).filter((p) => /nvidia|linux-headers/.test(p));
const audit = () => auditRecords(stateDir);

/** A Debian 12 kernel other than the lab's whose linux-headers package the archive has (this machine's apt lists). */
async function otherDebianKernel(): Promise<string> {
  const r = await execa('apt-cache', ['search', '--names-only', '^linux-headers-[0-9.]+-[0-9]+-amd64$']);
  const kernels = r.stdout.split('\n').map((l) => /^linux-headers-(\S+)/.exec(l)?.[1]).filter((k): k is string => !!k);
  const abi = (k: string) => Number(/-(\d+)-amd64$/.exec(k)?.[1]);
  const newest = kernels.sort((a, b) => abi(b) - abi(a))[0];
  if (!newest) throw new Error("this machine's apt lists name no linux-headers-<release>-amd64 package (apt-get update?)");
  return newest;
}

beforeAll(async () => {
  lab = await startLab({ nodes: ['cp1', 'g1'] });
  stateDir = join(lab.stateDir, 'ferry-state');
  kernel = (await g1(['uname', '-r'])).stdout.trim();
  site = await siteBundle(join(lab.stateDir, 'walkthrough'), { gpu: { model: 'h100', kernels: [kernel], standInHeaders: [kernel] } });
  figures.push(`walkthrough with --gpu h100 --kernel ${kernel}: resolve ${site.timings.resolve} ms, replica up ${site.timings.replica} ms, bundle build ${site.timings.build} ms, verify ${site.timings.verify} ms`);
  // The bundle of a site that asked for the wrong kernel: same lock, replica and key, another Debian kernel's real
  // headers from the archive.
  otherKernel = await otherDebianKernel();
  otherBundle = join(lab.stateDir, 'walkthrough', 'bundle-other-kernel');
  const other = await buildSiteBundle(site, otherBundle, [otherKernel]);
  figures.push(`bundle build --kernel ${otherKernel}: ${other.ms} ms`);
  const verified = await ferry(['bundle', 'verify', otherBundle, '--pubkey', site.pubkey]);
  expect(verified.code, verified.err).toBe(0);
  inventory = await lab.writeInventory({
    roles: { cp1: ['control-plane'], g1: ['worker', 'gpu'] },
    extra: { network: { controlPlaneEndpoint: `${addressIn(lab.subnet, 100)}:8443`, encapsulation: 'vxlan' } },
  });
  // The GPU stand-in: one NVIDIA display controller where the kernel lists PCI devices, in g1's mount namespace only.
  const pci = '/sys/bus/pci/devices';
  const dev = `${pci}/0000:18:00.0`;
  const mount = await lab.nodeExec('g1', ['sh', '-c', `mount -t tmpfs -o size=64k ferry-gpu-stand-in ${pci} && mkdir ${dev} && echo 0x10de > ${dev}/vendor && echo 0x2330 > ${dev}/device && echo 0x030200 > ${dev}/class`]);
  expect(mount.exitCode, mount.stderr).toBe(0);
}, 1_800_000);

afterAll(async () => {
  if (figures.length) console.log(`[gpu] figures:\n  ${figures.join('\n  ')}`);
  await site?.replica.stop();
  await lab?.stop();
});

describe('gpu-driver on lab nodes, from the bundle the README builds', () => {
  it('the lock names the driver and the bundle records DKMS with the exact headers for the GPU kernel', async () => {
    const driver = site.lock.stack.nvidiaDriver!;
    expect(driver.version.startsWith(`${driver.branch.replace(/^R/, '')}.`)).toBe(true);
    const manifest = await readFile(join(site.dir, 'manifest.yaml'), 'utf8');
    expect(manifest).toContain(`linux-headers-${kernel}`);
    const other = await readFile(join(otherBundle, 'manifest.yaml'), 'utf8');
    expect(other).toContain(`linux-headers-${otherKernel}`);
    expect(other).not.toContain(`linux-headers-${kernel}`);
  });

  it('refuses in preflight, changing nothing, when the bundle was built for another kernel', async () => {
    const r = await install(otherBundle);
    expect(r.code, r.out).toBe(7);
    const version = site.lock.stack.nvidiaDriver!.version;
    expect(r.err).toContain(`g1 runs kernel ${kernel}, and the bundle carries neither a precompiled NVIDIA ${version} driver nor the kernel headers for it (it carries the driver for ${otherKernel})`);
    expect(r.err).toContain(`--kernel ${kernel}`);
    // preflight stops the install before any phase changes a node.
    expect((await audit()).filter((a) => !a.readOnly)).toEqual([]);
    expect(await nvidiaPackages()).toEqual([]);
    expect((await g1(['test', '-e', '/etc/modprobe.d/ferry-blacklist-nouveau.conf'])).exitCode).toBe(1);
    // The phases before gpu-driver, so reset can be compared with the node as it was just before the driver.
    const before = await install(site.dir, PHASES.replace(',gpu-driver', ''));
    expect(before.code, before.err).toBe(0);
    expect((await g1(['cat', '/etc/containerd/config.toml'])).stdout).toContain('BinaryName = "/usr/bin/nvidia-container-runtime"');
    expect((await lab.nodeExec('cp1', ['cat', '/etc/containerd/config.toml'])).stdout).not.toContain('nvidia');
    packagesBeforeGpu = (await g1(['dpkg-query', '-W', '-f', '${Package} ${Version}\n'])).stdout;
  }, 900_000);

  it('installs the driver through DKMS for the kernel; nvidia-smi answers the locked version; containers run through the nvidia runtime', async () => {
    const started = performance.now();
    const r = await install(site.dir);
    expect(r.code, r.err).toBe(0);
    figures.push(`install up to gpu-driver (earlier phases done; DKMS: headers, gcc, make, dkms, driver, toolkit): ${Math.round(performance.now() - started)} ms`);
    const { branch, version } = site.lock.stack.nvidiaDriver!;
    const b = Number(branch.replace(/^R/, ''));
    const installed = await installedPackages();
    const expected = [`linux-headers-${kernel}`, `nvidia-driver-pinning-${b}`, b <= 580 ? `nvidia-open-${b}` : 'nvidia-open', 'nvidia-kernel-open-dkms', 'nvidia-smi', 'nvidia-persistenced', 'nvidia-container-toolkit', 'dkms', 'gcc', 'make'];
    expect(expected.filter((p) => !installed.includes(p))).toEqual([]);
    // The module DKMS built for the running kernel, with the locked version in its module information.
    const ko = await g1(['sh', '-c', `grep -ao 'version=[0-9.]*' /lib/modules/${kernel}/updates/dkms/nvidia.ko | head -n 1; grep -aoc 'vermagic=${kernel} ' /lib/modules/${kernel}/updates/dkms/nvidia.ko`]);
    expect(ko.stdout).toBe(`version=${version}\n1\n`);
    expect((await g1(['nvidia-smi', '--query-gpu=name,driver_version', '--format=csv,noheader'])).stdout).toBe(`NVIDIA H100 80GB HBM3, ${version}\n`);
    expect((await g1(['cat', '/etc/modprobe.d/ferry-blacklist-nouveau.conf'])).stdout).toContain('blacklist nouveau');
    expect((await g1(['systemctl', 'is-active', 'nvidia-persistenced'])).stdout.trim()).toBe('active');
    const calls = (await g1(['cat', '/var/log/ferry-stand-in/calls.jsonl'])).stdout;
    expect(calls).toContain(`"tool":"nvidia-dkms-build","argv":["${kernel}"]`);
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
  }, 900_000);

  it('a second run finds everything done: zero mutating commands', async () => {
    const ms = await expectConvergedGpuRerun(stateDir, () => install(site.dir));
    figures.push(`converged re-run of ${PHASES}: ${ms} ms`);
  }, 600_000);

  it('demands a reboot (and does none) while an older module is loaded; after the "reboot" the same command finishes', async () => {
    await g1(['sh', '-c', 'echo 550.54.15 > /run/ferry-stand-in/nvidia-loaded']);
    const r = await install(site.dir, 'preflight,gpu-driver');
    expect(r.code).toBe(7);
    expect(r.err).toContain(`g1: the NVIDIA ${site.lock.stack.nvidiaDriver!.branch.replace(/^R/, '')} driver is installed but the loaded kernel module is an older one, so it cannot load`);
    expect(r.err).toContain('reboot g1 (ferry never reboots a node by itself)');
    await g1(['rm', '-f', '/run/ferry-stand-in/nvidia-loaded']); // what a reboot does to the loaded module list
    const again = await install(site.dir, 'preflight,gpu-driver');
    expect(again.code, again.err).toBe(0);
  }, 600_000);

  it('reset removes the driver, its build tools, the toolkit and the blacklist: packages as before the phase', async () => {
    const r = await ferry(['reset', '-i', inventory, '--state-dir', stateDir, '--only', 'preflight,reset-gpu-driver']);
    expect(r.code, r.err).toBe(0);
    expect(await nvidiaPackages()).toEqual([]);
    // The driver's build tools need newer versions of some base packages (perl-base, liblzma5, ...) than the lab
    // base has: reset removes what gpu-driver added and cannot downgrade those (the old version is in no bundle), so
    // every package is still there, and a version differs only where it is now exactly the bundle's (as in
    // install.lab.test.ts; docs/install.md, "What reset gives back").
    const manifest = parseManifest(await readFile(join(site.dir, 'manifest.yaml'), 'utf8'), 'manifest.yaml');
    const bundled = new Map(manifest.artifacts.filter((a) => a.kind === 'package').map((a) => [a.name, a.version]));
    const lines = (t: string) => new Map(t.trim().split('\n').map((l) => [l.split(' ')[0]!, l] as const));
    const [was, now] = [lines(packagesBeforeGpu), lines((await g1(['dpkg-query', '-W', '-f', '${Package} ${Version}\n'])).stdout)];
    expect([...now.keys()]).toEqual([...was.keys()]);
    const upgraded: string[] = [];
    for (const [name, line] of now) {
      if (line === was.get(name)) continue;
      expect(line, `${name} changed, but not to the bundle's version`).toBe(`${name} ${bundled.get(name)}`);
      upgraded.push(name);
    }
    figures.push(`reset-gpu-driver: ${r.ms} ms; base packages left at the bundle's newer version: ${upgraded.join(', ') || 'none'}`);
    expect((await g1(['test', '-e', `/lib/modules/${kernel}/updates/dkms/nvidia.ko`])).exitCode).toBe(1);
    expect((await g1(['test', '-e', '/etc/modprobe.d/ferry-blacklist-nouveau.conf'])).exitCode).toBe(1);
    expect((await g1(['sh', '-c', 'ls /etc/systemd/system/multi-user.target.wants/ | grep nvidia; true'])).stdout).toBe('');
  }, 600_000);
});
