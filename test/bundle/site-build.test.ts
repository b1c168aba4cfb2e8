import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Lock } from '../../src/config/lock.ts';
import { buildSiteFile } from '../../src/doctor/site-file.ts';
import { parseFacts } from '../../src/facts/parse.ts';
import { commonPackages, installedEntry, siteBuild } from '../../src/bundle/site-build.ts';
import { parseInstalledDeb } from '../../src/bundle/sources/deb-plan.ts';
import { parseNevra, subtractInstalled } from '../../src/bundle/sources/rpm-version.ts';
import { UserError } from '../../src/errors.ts';
import { fixtureText } from '../facts/fixtures.ts';
import { KERNEL_94, KERNEL_94_ERRATA, KERNEL_95, ROCKY94_BASE, siteOf } from '../fixtures/site/rocky94-nodes.ts';

const lock = (name: string) => parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')) as Lock;
const rocky = lock('lock-rocky9-h100.yaml').stack;
const debianCpu = lock('lock-debian12-cpu.yaml').stack;
const packagesOut = (name: string) => readFileSync(new URL(`../fixtures/facts/packages/${name}`, import.meta.url), 'utf8');
const opts = { file: 'site.json', kernels: [] as string[], closure: 'installed' as const };

describe('bundle build --site: what the site file gives the build', () => {
  it("takes every GPU node's kernel, the nodes' minor and the packages on every node", () => {
    const extra = { name: 'kernel-devel', version: `5.14.0-427.13.1.el9_4`, arch: 'x86_64' };
    const site = siteOf([
      { name: 'cp-1', roles: ['control-plane'] },
      { name: 'gpu-1', roles: ['worker', 'gpu'], gpus: 8, packages: [...ROCKY94_BASE, extra] },
      { name: 'gpu-2', roles: ['worker', 'gpu'], gpus: 8, kernel: KERNEL_94_ERRATA },
    ]);
    const b = siteBuild(rocky, site, { ...opts, kernels: [KERNEL_94] });
    expect(b.kernels).toEqual([KERNEL_94, KERNEL_94_ERRATA]);
    expect(b.closure).toEqual({ installed: ['bash-5.1.8-9.el9.x86_64', 'glibc-2.34-100.el9.x86_64', 'iptables-nft-1.8.10-2.el9.x86_64', 'openssl-libs-1:3.0.7-27.el9.x86_64', 'tzdata-2024a-1.el9.noarch'] });
    expect(b.record).toMatchObject({
      cluster: 'gpu-prod',
      os: { id: 'rocky', version: '9.4', family: 'el' },
      kernels: [KERNEL_94, KERNEL_94_ERRATA],
      osVersions: ['9.4'],
      closure: 'installed',
      installed: { manager: 'rpm', packages: ['bash 5.1.8-9.el9 x86_64', 'glibc 2.34-100.el9 x86_64', 'iptables-nft 1.8.10-2.el9 x86_64', 'openssl-libs 1:3.0.7-27.el9 x86_64', 'tzdata 2024a-1.el9 noarch'] },
    });
    expect(b.record.nodes.map((n) => [n.name, n.gpu, n.os])).toEqual([['cp-1', false, 'rocky 9.4'], ['gpu-1', true, 'rocky 9.4'], ['gpu-2', true, 'rocky 9.4']]);
    expect(b.record.nodes[1]!.packages).not.toBe(b.record.nodes[0]!.packages);
  });

  it('with --closure full carries every dependency and records no installed set', () => {
    const b = siteBuild(rocky, siteOf([{ name: 'gpu-1', roles: ['gpu'] }]), { ...opts, closure: 'full' });
    expect(b.closure).toBe('full');
    expect(b.record.installed).toBeUndefined();
    expect(b.kernels).toEqual([KERNEL_94]);
  });

  it('carries the kernel of a node with GPUs but no gpu role, and says so', () => {
    const b = siteBuild(rocky, siteOf([{ name: 'w1', gpus: 2, kernel: KERNEL_94_ERRATA }]), opts);
    expect(b.kernels).toEqual([KERNEL_94_ERRATA]);
    expect(b.notes.join('\n')).toMatch(/w1 has 2 NVIDIA GPU\(s\) but not the gpu role/);
  });

  it('reads a site file doctor wrote from real Debian facts, for a CPU lock', () => {
    const facts = parseFacts('w1', `${fixtureText('debian12-lab-node')}\n${packagesOut('dpkg.out')}`);
    const site = buildSiteFile({ cluster: 'lab', generatedAt: new Date(0), gathered: [{ name: 'w1', address: '10.0.0.1', roles: ['worker'], facts }] });
    const b = siteBuild(debianCpu, site, opts);
    expect(b.kernels).toEqual([]);
    expect(b.closure).toMatchObject({ installed: expect.arrayContaining(['apt:amd64=2.6.2', 'adduser:all=3.134']) });
    expect(parseInstalledDeb('apt:amd64=2.6.2')).toEqual({ name: 'apt', arch: 'amd64', version: '2.6.2' });
  });

  it.each([
    ['a node on another EL minor', siteOf([{ name: 'gpu-9', roles: ['gpu'], versionId: '9.5', kernel: KERNEL_95 }]), rocky, /gpu-9 runs rocky 9\.5, but the lock is for rocky 9\.4: the packages .* resolve for one minor, \{releasever\} 9\.4/],
    ['a node on another major (real Rocky 8.6 facts)', buildSiteFile({ cluster: 'c', generatedAt: new Date(0), gathered: [{ name: 'old', address: '', roles: ['gpu'], facts: parseFacts('old', `${fixtureText('rocky8-gpu-reconstructed')}\n${packagesOut('rpm.out')}`) }] }), rocky, /old runs rocky 8\.6, but the lock is for rocky 9\.4/],
    ['a Debian node for a Rocky lock', siteOf([{ name: 'd1', id: 'debian', versionId: '12', family: 'debian', manager: 'dpkg' }]), rocky, /d1 runs debian 12, but the lock is for rocky 9\.4/],
    ['an Alma node for a Rocky lock', siteOf([{ name: 'a1', id: 'almalinux' }]), rocky, /a1 runs almalinux 9\.4/],
    ['an arm64 node for an amd64 lock', siteOf([{ name: 'arm1', arch: 'aarch64' }]), rocky, /arm1 is aarch64, but the lock is for amd64/],
    ['a gpu node for a lock without a driver', siteOf([{ name: 'g1', roles: ['gpu'], id: 'debian', versionId: '12', family: 'debian', manager: 'dpkg' }]), debianCpu, /g1 has the gpu role, but the lock has no NVIDIA driver/],
    ['dpkg packages on an EL node', siteOf([{ name: 'x1', manager: 'dpkg' }]), rocky, /x1: its packages are dpkg's, but rocky uses rpm/],
  ])('refuses %s, naming the node and what the lock is', (_n, site, stack, message) => {
    let error: unknown;
    try {
      siteBuild(stack, site, opts);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/^site\.json contradicts the lock/);
    expect((error as UserError).message).toMatch(message);
    expect((error as UserError).hint).toMatch(/ferry resolve --os/);
  });

  it('names every contradicting node at once', () => {
    const site = siteOf([{ name: 'a', versionId: '9.5' }, { name: 'b' }, { name: 'c', arch: 'aarch64' }]);
    expect(() => siteBuild(rocky, site, opts)).toThrow(/a runs rocky 9\.5[^]*\n  c is aarch64/);
  });

  it('keeps only packages every node has at the same version and arch', () => {
    const a = [{ name: 'x', version: '1', arch: 'x86_64' }, { name: 'y', version: '1', arch: 'x86_64' }, { name: 'z', version: '1', arch: 'noarch' }];
    const b = [{ name: 'x', version: '1', arch: 'x86_64' }, { name: 'y', version: '2', arch: 'x86_64' }, { name: 'z', version: '1', arch: 'noarch' }];
    expect(commonPackages([a, b]).map((p) => p.name)).toEqual(['x', 'z']);
    expect(commonPackages([])).toEqual([]);
  });

  it("writes EL entries the installed closure's rpm reader takes, epoch included, so the node's packages are not carried", () => {
    const entries = ROCKY94_BASE.map((p) => installedEntry('el', p));
    expect(entries.map(parseNevra)).toContainEqual({ name: 'openssl-libs', epoch: 1, version: '3.0.7', release: '27.el9', arch: 'x86_64' });
    const closure = [
      { name: 'openssl-libs', epoch: 1, version: '3.0.7', release: '27.el9', arch: 'x86_64' },
      { name: 'containerd.io', epoch: 0, version: '2.0.8', release: '3.1.el9', arch: 'x86_64' },
    ];
    expect(subtractInstalled(closure, entries).keep.map((n) => n.name)).toEqual(['containerd.io']);
  });
});

describe('bundle build --site with a lock of several OS releases (rocky 9.4 + debian 12)', () => {
  const mixed = { ...rocky, nvidiaDriver: null, alsoOs: [{ os: debianCpu.os, kernel: debianCpu.kernel, cgroup: debianCpu.cgroup }] };
  const nodes = siteOf([
    { name: 'cp-1', roles: ['control-plane'] },
    { name: 'd-1', roles: ['worker'], id: 'debian', versionId: '12', family: 'debian', manager: 'dpkg', packages: [{ name: 'bash', version: '5.2.15-2+b7', arch: 'amd64' }] },
  ]);
  it.each([
    ['full closure: a node of either release is covered', nodes, 'full', undefined],
    ['installed closure: refused, it resolves against one release', nodes, 'installed', /the installed closure resolves against one OS's package set, and the lock is for rocky 9\.4 and debian 12: build with --closure full/],
    ['a node of neither release: named with both', siteOf([{ name: 'u-1', id: 'ubuntu', versionId: '24.04', family: 'debian' }]), 'full', /u-1 runs ubuntu 24\.04, but the lock is for rocky 9\.4 \(nor debian 12\)/],
  ] as const)('%s', (_name, site, closure, refusal) => {
    const build = () => siteBuild(mixed, site, { file: 'site.json', kernels: [], closure });
    if (refusal) expect(build).toThrow(refusal);
    else expect(build().record.nodes.map((n) => n.os)).toEqual(['rocky 9.4', 'debian 12']);
  });
});
