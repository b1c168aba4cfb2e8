// The replica's CUDA rhel9 repository as this machine's real dnf sees it: the NVIDIA stand-in RPMs
// (test/stand-ins/nvidia/rpms.ts) in a flat repo with the `nvidia-driver:<B>-open` stream's modules.yaml
// (writeRpmRepo), signed. Modular filtering hides the driver until the stream is enabled, as on NVIDIA's real repo.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSigningKey, stopGpgAgent, type SigningKey } from '../../src/replica/apt-repo.ts';
import { signRpms } from '../../src/replica/rpm-builder.ts';
import { writeRpmRepo } from '../../src/replica/rpm-repo.ts';
import { nvidiaStandInRpms, nvidiaStandInRpmSpecs } from '../stand-ins/nvidia/rpms.ts';

const VERSION = '620.70.06';
const KERNEL = '5.14.0-427.13.1.el9_4.x86_64';
let dir: string;
let key: SigningKey;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cuda-rhel-'));
  key = await makeSigningKey(join(dir, 'gpg'), 'cuda rhel test <t@ferry.invalid>');
}, 60_000);
afterAll(async () => {
  await stopGpgAgent(key.home);
  await rm(dir, { recursive: true, force: true });
});

describe('NVIDIA stand-in RPMs and the CUDA rhel repository', () => {
  it('the stream names every driver package at epoch 3, and nvidia-open pulls the DKMS module and nvidia-smi', () => {
    const specs = nvidiaStandInRpmSpecs(VERSION, '9', [KERNEL]);
    const [doc, defaults] = parseAllDocuments(specs.stream).map((d) => d.toJSON() as { document: string; data: { name: string; stream: string; profiles: { default: { rpms: string[] } }; artifacts: { rpms: string[] } } });
    expect(defaults).toEqual({ document: 'modulemd-defaults', version: 1, data: { module: 'nvidia-driver', profiles: { '620-open': ['default'] } } });
    expect(doc!.document).toBe('modulemd');
    expect(doc!.data.name).toBe('nvidia-driver');
    expect(doc!.data.stream).toBe('620-open');
    expect(doc!.data.profiles.default.rpms).toEqual(['nvidia-open']);
    expect(doc!.data.artifacts.rpms).toEqual(['kmod-nvidia-open-dkms', 'nvidia-driver', 'nvidia-driver-cuda', 'nvidia-open', 'nvidia-persistenced'].map((n) => `${n}-3:${VERSION}-1.el9.x86_64`));
    expect(specs.cuda.find((s) => s.name === 'nvidia-open')!.requires).toEqual([`kmod-nvidia-open-dkms = 3:${VERSION}-1.el9`, `nvidia-driver = 3:${VERSION}-1.el9`, `nvidia-driver-cuda = 3:${VERSION}-1.el9`]);
    expect(specs.kernel.map((s) => `${s.name}-${s.version}-${s.release}`)).toEqual([`kernel-devel-${KERNEL.replace(/\.x86_64$/, '')}`, `kernel-headers-${KERNEL.replace(/\.x86_64$/, '')}`]);
    expect(specs.kernel[0]!.links).toEqual({ [`lib/modules/${KERNEL}/build`]: `/usr/src/kernels/${KERNEL}` });
    expect(() => nvidiaStandInRpmSpecs(VERSION, '9', ['6.1.0-37-amd64'])).toThrow(/not an EL x86_64 kernel/);
  });

  it("real dnf: the driver is filtered out until nvidia-driver:620-open is enabled, then it resolves from the signed repo", async () => {
    const built = await nvidiaStandInRpms(VERSION, '9', [KERNEL]);
    const rpms = join(dir, 'rpms');
    await execa('mkdir', ['-p', rpms]);
    await execa('cp', [...built.cuda, rpms]);
    const copies = built.cuda.map((f) => join(rpms, f.split('/').pop()!));
    await signRpms(copies, key);
    const repo = join(dir, 'repo');
    await writeRpmRepo({ dir: repo, rpms: copies, layout: 'flat', key, modules: built.cudaModules });
    await writeFile(join(dir, 'key.asc'), key.armored);
    await writeFile(join(dir, 'dnf.conf'), `[main]\nreposdir=/dev/null\n[cuda]\nname=cuda\nbaseurl=file://${repo}\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://${join(dir, 'key.asc')}\n`);
    const dnf = (...args: string[]) => execa('dnf', ['-q', '-y', '--config', join(dir, 'dnf.conf'), '--installroot', join(dir, 'root'), '--releasever', '9', '--setopt=module_platform_id=platform:el9', ...args], { reject: false });
    const hidden = await dnf('repoquery', '--qf', '%{name}', 'nvidia-open');
    expect(hidden.exitCode, hidden.stderr).toBe(0);
    expect(hidden.stdout.trim()).toBe('');
    const enabled = await dnf('module', 'enable', 'nvidia-driver:620-open');
    expect(enabled.exitCode, enabled.stderr).toBe(0);
    const shown = await dnf('repoquery', '--qf', '%{name}-%{epoch}:%{version}-%{release}.%{arch}', 'nvidia-open', 'kmod-nvidia-open-dkms');
    expect(shown.stdout.trim().split('\n').sort()).toEqual([`kmod-nvidia-open-dkms-3:${VERSION}-1.el9.x86_64`, `nvidia-open-3:${VERSION}-1.el9.x86_64`]);
    // `@nvidia-driver:620-open` (what ferry asks for) installs the stream's default profile: dnf gets that far and
    // stops only at the build tools, which live in Rocky's repos and EPEL, not here.
    const profile = await dnf('install', '--downloadonly', `--downloaddir=${join(dir, 'dl')}`, '@nvidia-driver:620-open');
    expect(profile.exitCode).toBe(1);
    expect(profile.stderr).toMatch(/nothing provides (dkms|gcc|make) needed by kmod-nvidia-open-dkms-3:620\.70\.06-1\.el9\.x86_64/);
  }, 120_000);
});
