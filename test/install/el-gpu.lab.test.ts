// gpu-driver end to end on an EL GPU worker (EL lab nodes, src/lab/el/: Debian's real dnf and rpm under a Rocky
// Linux 9.4 os-release and rpm database; cp1 EL control plane, g1 EL worker with role gpu), from a bundle built the way
// the README says: `ferry resolve --os rocky-9.4 --gpu h100` (branch and version from the lock), `ferry bundle build`
// with the SHIPPED spec and `--kernel <g1's uname -r>` through the offline replica (support/site-bundle.ts), `ferry
// bundle verify`. The replica serves NVIDIA's CUDA rhel9 repository (the `nvidia-driver:<B>-open` module stream,
// kmod-nvidia-open-dkms, nvidia-driver, nvidia-driver-cuda, nvidia-persistenced, nvidia-open) and libnvidia-container's
// rpm repository (nvidia-container-toolkit) with the STAND-INs of test/stand-ins/nvidia/rpms.ts, the DKMS build tools
// rebuilt from Debian's (gcc, make, elfutils-libelf-devel in Rocky's repos; dkms in EPEL) and the kernel-devel of the
// node's kernel in AppStream. STAND-INs for what this machine lacks: the GPU (a PCI device entry, as in
// gpu.lab.test.ts) and the EL kernel: the lab kernel is this machine's, so g1's `uname` reports Rocky 9.4's GA kernel
// release (elKernelStandIn; docs/lab.md "EL GPU worker").
// Proves: the build enables the stream and carries the DKMS set for that exact kernel (no precompiled kmod for it);
// install enables the stream on g1, dnf installs with gpgcheck=1 from ferry's repo, the stand-in module is built by
// the kmod package's scriptlet with the bundle's gcc for exactly that kernel; nvidia-smi answers the locked version;
// a converged re-run runs zero mutating commands; reset-gpu-driver gives back the `rpm -qa` of before the phase.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { addressIn } from '../lab/subnet.ts';
import { elKernelStandIn } from '../stand-ins/nvidia/rpms.ts';
import { expectConvergedGpuRerun } from './support/converged.ts';
import { ferry, siteBundle, type SiteBundle } from './support/site-bundle.ts';

const OS = 'rocky-9.4';
/** Rocky Linux 9.4's GA kernel (dl.rockylinux.org/vault/rocky/9.4/BaseOS/x86_64/os/Packages/k/, as src/gpu/kernel-release.ts cites it). */
const EL_KERNEL = '5.14.0-427.13.1.el9_4.x86_64';
const PHASES = 'preflight,copy-bundle,local-repo,os-prepare,container-runtime,gpu-driver';
let lab: Lab;
let site: SiteBundle;
let inventory: string;
let stateDir: string;
let packagesBeforeGpu: string;
const figures: string[] = [];

const install = (only = PHASES) => ferry(['install', '-i', inventory, '--bundle', site.dir, '--state-dir', stateDir, '--only', only]);
const g1 = (argv: string[]) => lab.nodeExec('g1', argv, { allowFailure: true });
const rpmQa = async () => (await g1(['sh', '-c', "rpm -qa --qf '%{NAME}-%{EVR}.%{ARCH}\\n' | sort"])).stdout;

beforeAll(async () => {
  let t = performance.now();
  lab = await startLab({ nodes: ['cp1', 'g1'], os: { cp1: OS, g1: OS } });
  figures.push(`EL lab up (2 nodes): ${Math.round(performance.now() - t)} ms`);
  stateDir = join(lab.stateDir, 'ferry-state');
  // The EL kernel's identity on g1: uname moved aside with dpkg-divert (dpkg owns it here), the stand-in in its place.
  const uname = await lab.nodeExec('g1', ['sh', '-c', 'dpkg-divert --quiet --local --rename --divert /bin/uname.distrib --add /bin/uname && cat > /bin/uname && chmod 0755 /bin/uname'], { input: elKernelStandIn(EL_KERNEL) });
  expect(uname.exitCode, uname.stderr).toBe(0);
  const kernel = (await g1(['uname', '-r'])).stdout.trim();
  expect(kernel).toBe(EL_KERNEL);
  t = performance.now();
  site = await siteBundle(join(lab.stateDir, 'walkthrough'), { os: OS, gpu: { model: 'h100', kernels: [kernel], standInHeaders: [kernel] } });
  figures.push(`walkthrough (${OS}, --gpu h100 --kernel ${kernel}): ${Math.round(performance.now() - t)} ms (resolve ${site.timings.resolve} ms, replica ${site.timings.replica} ms, build ${site.reused ? 'reused' : `${site.timings.build} ms`}, verify ${site.timings.verify} ms)`);
  inventory = await lab.writeInventory({
    roles: { cp1: ['control-plane'], g1: ['worker', 'gpu'] },
    extra: { network: { controlPlaneEndpoint: `${addressIn(lab.subnet, 100)}:8443`, encapsulation: 'vxlan' } },
  });
  const pci = '/sys/bus/pci/devices';
  const dev = `${pci}/0000:18:00.0`;
  const mount = await g1(['sh', '-c', `mount -t tmpfs -o size=64k ferry-gpu-stand-in ${pci} && mkdir ${dev} && echo 0x10de > ${dev}/vendor && echo 0x2330 > ${dev}/device && echo 0x030200 > ${dev}/class`]);
  expect(mount.exitCode, mount.stderr).toBe(0);
}, 1_800_000);

afterAll(async () => {
  if (figures.length) console.log(`[el-gpu] figures:\n  ${figures.join('\n  ')}`);
  await site?.replica.stop();
  await lab?.stop();
});

describe('gpu-driver on an EL GPU worker, from the bundle the README builds', () => {
  it('the bundle carries the DKMS set for the exact kernel: kernel-devel from AppStream, dkms from EPEL, the open stream of the locked branch', async () => {
    const { branch, version } = site.lock.stack.nvidiaDriver!;
    const b = branch.replace(/^R/, '');
    const manifest = await readFile(join(site.dir, 'manifest.yaml'), 'utf8');
    const [kv, kr] = [EL_KERNEL.split('-')[0]!, EL_KERNEL.replace(/^[^-]+-/, '').replace(/\.x86_64$/, '')];
    for (const [name, v] of [['kernel-devel', kv], ['kernel-headers', kv], ['kmod-nvidia-open-dkms', `3:${version}`], ['nvidia-open', `3:${version}`], ['nvidia-driver-cuda', `3:${version}`], ['dkms', '3.0.13'], ['gcc', '11.4.1'], ['make', '1:4.3'], ['elfutils-libelf-devel', '0.190'], ['nvidia-container-toolkit', '1.17.8']] as const)
      expect(manifest, name).toMatch(new RegExp(`name: ${name}\\n\\s+version: "?${v.replace(/[.]/g, '\\.')}"?\\n`));
    expect(manifest).toContain(`release: ${kr}`);
    expect(manifest).toMatch(new RegExp(`kernel: ${EL_KERNEL.replace(/[.]/g, '\\.')}\\n\\s+kind: dkms\\n\\s+package: kernel-devel-${EL_KERNEL.replace(/[.]/g, '\\.')}`));
    // The stream's modules.yaml travels with the bundle's repository, so the node's dnf can enable it.
    const repodata = join(site.dir, BundleLayout.packageRepo('rocky', '9.4', 'x86_64'), 'repodata');
    const modules = (await readdir(repodata)).find((n) => /modules\.yaml/.test(n));
    expect(modules).toBeDefined();
    const text = (await execa('sh', ['-c', 'for d in "zstd -dcq" "xz -dc" "gzip -dc" cat; do $d "$1" 2>/dev/null && exit 0; done', 'sh', join(repodata, modules!)])).stdout;
    expect(text).toContain(`stream: "${b}-open"`);
  });

  it('installs the driver through DKMS for the exact kernel; nvidia-smi answers the locked version', async () => {
    const before = await install(PHASES.replace(',gpu-driver', ''));
    expect(before.code, before.err).toBe(0);
    packagesBeforeGpu = await rpmQa();
    const started = performance.now();
    const r = await install();
    expect(r.code, r.err).toBe(0);
    figures.push(`install up to gpu-driver (earlier phases done; DKMS: kernel-devel, gcc, make, dkms, driver, toolkit): ${Math.round(performance.now() - started)} ms`);
    const { branch, version } = site.lock.stack.nvidiaDriver!;
    const b = branch.replace(/^R/, '');
    const installed = (await g1(['rpm', '-q', '--qf', '%{NAME}-%{EVR}\\n', 'kernel-devel', 'gcc', 'make', 'dkms', 'kmod-nvidia-open-dkms', 'nvidia-open', 'nvidia-driver-cuda', 'nvidia-persistenced', 'nvidia-container-toolkit'])).stdout.trim().split('\n');
    expect(installed).toEqual([`kernel-devel-${EL_KERNEL.replace(/\.x86_64$/, '')}`, 'gcc-11.4.1-3.el9', 'make-1:4.3-8.el9', 'dkms-3.0.13-1.el9', `kmod-nvidia-open-dkms-3:${version}-1.el9`, `nvidia-open-3:${version}-1.el9`, `nvidia-driver-cuda-3:${version}-1.el9`, `nvidia-persistenced-3:${version}-1.el9`, 'nvidia-container-toolkit-1.17.8-1']);
    // dnf enabled the branch's open stream (ferry installed `@nvidia-driver:<B>-open`).
    const stream = (await g1(['cat', '/etc/dnf/modules.d/nvidia-driver.module'])).stdout;
    expect(stream).toContain(`stream=${b}-open`);
    expect(stream).toContain('state=enabled');
    // Signed, each by its repository's key (NVIDIA's CUDA, EPEL, Rocky), and checked by dnf with gpgcheck=1 against
    // the keys the bundle carries.
    const sigs = (await g1(['rpm', '-q', '--qf', '%{RSAHEADER:pgpsig} %{DSAHEADER:pgpsig}\\n', 'kmod-nvidia-open-dkms', 'dkms', 'kernel-devel'])).stdout.trim().split('\n');
    const keyIds = sigs.map((l) => / Key ID ([0-9a-f]+)/.exec(l)?.[1]);
    expect(keyIds.every(Boolean), sigs.join('\n')).toBe(true);
    expect(new Set(keyIds).size).toBe(3);
    // The module the kmod package's scriptlet built with the bundle's gcc, for the exact kernel, where EL's dkms puts it.
    const ko = await g1(['sh', '-c', `grep -ao 'version=[0-9.]*' /lib/modules/${EL_KERNEL}/extra/nvidia.ko | head -n 1; grep -aoc 'vermagic=${EL_KERNEL} ' /lib/modules/${EL_KERNEL}/extra/nvidia.ko; rpm -qf /usr/bin/gcc /usr/lib/gcc/x86_64-linux-gnu/12/cc1`]);
    expect(ko.stdout).toBe(`version=${version}\n1\ngcc-11.4.1-3.el9.x86_64\ngcc-11.4.1-3.el9.x86_64\n`);
    expect((await g1(['nvidia-smi', '--query-gpu=name,driver_version', '--format=csv,noheader'])).stdout).toBe(`NVIDIA H100 80GB HBM3, ${version}\n`);
    expect((await g1(['systemctl', 'is-active', 'nvidia-persistenced'])).stdout.trim()).toBe('active');
    expect((await g1(['cat', '/etc/modprobe.d/ferry-blacklist-nouveau.conf'])).stdout).toContain('blacklist nouveau');
    const calls = (await g1(['cat', '/var/log/ferry-stand-in/calls.jsonl'])).stdout;
    expect(calls).toContain(`"tool":"nvidia-dkms-build","argv":["${EL_KERNEL}"]`);
    expect(calls).not.toContain('"tool":"nvidia-ctk"');
  }, 900_000);

  it('a second run finds everything done: zero mutating commands', async () => {
    const ms = await expectConvergedGpuRerun(stateDir, () => install());
    figures.push(`converged re-run of ${PHASES}: ${ms} ms`);
  }, 600_000);

  it('reset-gpu-driver gives back the rpm -qa of before the phase', async () => {
    const r = await ferry(['reset', '-i', inventory, '--state-dir', stateDir, '--only', 'preflight,reset-gpu-driver']);
    expect(r.code, r.err).toBe(0);
    figures.push(`reset-gpu-driver: ${r.ms} ms`);
    expect(await rpmQa()).toBe(packagesBeforeGpu);
    expect((await g1(['test', '-e', `/lib/modules/${EL_KERNEL}/extra/nvidia.ko`])).exitCode).toBe(1);
    expect((await g1(['test', '-e', '/etc/modprobe.d/ferry-blacklist-nouveau.conf'])).exitCode).toBe(1);
  }, 600_000);
});
