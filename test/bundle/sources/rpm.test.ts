// collectRpmPackages against fixture RPMs (test/support/rpm-fixtures.ts) served over HTTP on loopback: real
// rpmbuild, createrepo_c, modifyrepo_c and dnf; the resulting repo is installed from for real into an installroot.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifact, SourceContext } from '../../../src/bundle/artifact.ts';
import { collectRpmPackages, type CollectRpmOptions } from '../../../src/bundle/sources/rpm.ts';
import { parseDnfResolved } from '../../../src/bundle/sources/rpm-plan.ts';
import { LocalHost } from '../../../src/hosts/local.ts';
import { UserError, VerifyError } from '../../../src/errors.ts';
import { startRpmFixtureRepo, type RpmFixtureRepo } from '../../support/rpm-fixtures.ts';

let fixture: RpmFixtureRepo;
let dir: string;
let full: Artifact[];
const T = 60_000;
const host = new LocalHost();

function ctxFor(name: string): SourceContext {
  return { bundleDir: join(dir, name), cacheDir: join(dir, 'cache'), concurrency: 4, progress: () => {} };
}
function options(over: Partial<CollectRpmOptions>): CollectRpmOptions {
  return { osId: 'rocky', osVersion: '8.10', repos: [{ id: 'fixture', baseurl: fixture.baseurl }], releasever: '8', arch: 'x86_64', packages: ['ferry-a', 'ferry-mod'], closure: 'full', ...over };
}
const names = (artifacts: Artifact[]) => artifacts.filter((a) => a.kind === 'package').map((a) => `${a.name}-${a.version}`).sort();

beforeAll(async () => {
  fixture = await startRpmFixtureRepo();
  dir = await mkdtemp(join(tmpdir(), 'ferry-rpm-'));
  full = await collectRpmPackages(options({}), ctxFor('full'));
}, T);
afterAll(async () => {
  await fixture?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('collectRpmPackages with signed packages', () => {
  let signed: RpmFixtureRepo;
  beforeAll(async () => {
    signed = await startRpmFixtureRepo({ sign: true });
  }, T);
  afterAll(async () => {
    await signed?.close();
  });

  it('accepts packages signed by the repo key', async () => {
    const repos = [{ id: 'signed', baseurl: signed.baseurl, gpgcheck: true, gpgkey: signed.gpgkey }];
    expect(names(await collectRpmPackages(options({ repos, packages: ['ferry-a'] }), ctxFor('signed')))).toEqual(['ferry-a-1.0', 'ferry-b-1.0', 'ferry-c-2.0', 'ferry-provider-1:3.1']);
  }, T);

  it('carries the repo\'s key beside the bundle\'s repo, so nodes check the packages again (gpgcheck=1)', async () => {
    const repos = [{ id: 'signed', baseurl: signed.baseurl, gpgcheck: true, gpgkey: signed.gpgkey }];
    const ctx = { ...ctxFor('carried'), cacheDir: join(dir, 'cache-carried') };
    const artifacts = await collectRpmPackages(options({ repos, packages: ['ferry-a'] }), ctx);
    const key = artifacts.find((a) => /\/RPM-GPG-KEY-ferry-signed$/.test(a.path));
    expect(key?.kind).toBe('repo-metadata');
    expect(await readFile(join(ctx.bundleDir, key!.path))).toEqual(Buffer.from(await (await fetch(signed.gpgkey!)).arrayBuffer()));
  }, T);

  it('refuses them when the spec names another key', async () => {
    const other = await startRpmFixtureRepo({ sign: true });
    try {
      const repos = [{ id: 'signed', baseurl: signed.baseurl, gpgcheck: true, gpgkey: other.gpgkey }];
      const error = await collectRpmPackages(options({ repos, packages: ['ferry-a'] }), { ...ctxFor('wrongkey'), cacheDir: join(dir, 'cache-wrongkey') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VerifyError);
    } finally {
      await other.close();
    }
  }, T);
});

describe('collectRpmPackages', () => {
  it('resolves the Requires chain, the virtual Provides and the default module stream', () => {
    expect(names(full)).toEqual(['ferry-a-1.0', 'ferry-b-1.0', 'ferry-c-2.0', 'ferry-mod-1.0', 'ferry-provider-1:3.1']);
    const a = full.find((x) => x.name === 'ferry-a')!;
    expect(a).toMatchObject({ kind: 'package', path: 'packages/rocky-8.10/x86_64/ferry-a-1.0-1.noarch.rpm', release: '1', arch: 'noarch' });
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes createrepo_c metadata and carries the modules.yaml of the source repo', async () => {
    const repomd = await readFile(join(dir, 'full/packages/rocky-8.10/x86_64/repodata/repomd.xml'), 'utf8');
    expect(repomd).toMatch(/<data type="primary">/);
    expect(repomd).toMatch(/<data type="modules">/);
    expect(full.filter((x) => x.kind === 'repo-metadata').map((x) => x.path)).toContain('packages/rocky-8.10/x86_64/repodata/repomd.xml');
  });

  it('produces a repo that dnf installs from into an empty root, with the module streams listed', async () => {
    const root = join(dir, 'target-root');
    const repo = `file://${join(dir, 'full/packages/rocky-8.10/x86_64')}`;
    await writeFile(join(dir, 'dnf.conf'), '[main]\n');
    const common = ['-c', join(dir, 'dnf.conf'), `--installroot=${root}`, '--releasever=8', '--setopt=module_platform_id=platform:el8', '--setopt=reposdir=/dev/null', `--repofrompath=bundle,${repo}`, '--repo=bundle', '--setopt=bundle.gpgcheck=0', '--disableplugin=*'];
    const modules = execFileSync('dnf', [...common, 'module', 'list'], { stdio: 'pipe' }).toString();
    expect(modules).toMatch(/ferry-mod\s+1 \[d\]/);
    expect(modules).toMatch(/ferry-mod\s+2\s/);
    execFileSync('dnf', [...common, '-y', 'install', 'ferry-a', 'ferry-mod'], { stdio: 'pipe' });
    const installed = execFileSync('rpm', ['--root', root, '-qa', '--qf', '%{NAME}-%{VERSION}\\n']).toString().trim().split('\n').sort();
    expect(installed).toEqual(['ferry-a-1.0', 'ferry-b-1.0', 'ferry-c-2.0', 'ferry-mod-1.0', 'ferry-provider-3.1']);
  }, T);

  it('leaves out what the node already has, and keeps what it has too old', async () => {
    const installed = ['ferry-provider-1:3.1-1.noarch', 'ferry-c-1.0-1.noarch', 'bash-5.1.8-9.el9.x86_64'];
    const small = await collectRpmPackages(options({ closure: { installed } }), ctxFor('installed'));
    expect(names(small)).toEqual(['ferry-a-1.0', 'ferry-b-1.0', 'ferry-c-2.0', 'ferry-mod-1.0']);
  }, T);

  it('against a real node root, keeps at least what dnf itself would fetch there', async () => {
    const node = join(dir, 'node-root');
    await writeFile(join(dir, 'dnf.conf'), '[main]\n');
    const dnf = (root: string, ...args: string[]) => host.exec(['dnf', '-v', '-y', '-c', join(dir, 'dnf.conf'), `--installroot=${root}`, '--releasever=8', '--setopt=module_platform_id=platform:el8', '--setopt=install_weak_deps=False', '--setopt=reposdir=/dev/null', '--disableplugin=*', `--repofrompath=fixture,${fixture.baseurl}`, '--repo=fixture', '--setopt=fixture.gpgcheck=0', ...args]);
    await dnf(node, 'install', 'ferry-provider', 'ferry-c-1.0');
    // What doctor captures on a node: one NEVRA per line.
    const installed = (await host.exec(['rpm', '--root', node, '-qa', '--qf', '%{NAME}-%{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\\n'])).stdout.trim().split('\n');
    expect(installed.sort()).toEqual(['ferry-c-0:1.0-1.noarch', 'ferry-provider-1:3.1-1.noarch']);
    const dnfAnswer = parseDnfResolved((await dnf(node, 'install', '--downloadonly', `--downloaddir=${join(dir, 'node-dl')}`, 'ferry-a', 'ferry-mod')).stdout);
    const ours = await collectRpmPackages(options({ closure: { installed } }), ctxFor('node'));
    expect(names(ours)).toEqual(expect.arrayContaining(dnfAnswer.map((p) => `${p.name}-${p.version}`)));
    expect(names(ours)).toEqual(['ferry-a-1.0', 'ferry-b-1.0', 'ferry-c-2.0', 'ferry-mod-1.0']);
  }, T);

  it('fails with a UserError naming the package and what nothing provides', async () => {
    const error = await collectRpmPackages(options({ packages: ['ferry-a', 'ferry-broken'] }), ctxFor('broken')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('ferry-broken-0.1-1.noarch needs libghost.so.1()(64bit), which nothing in the repos provides');
  }, T);

  it('fails with a UserError naming a package no repo has', async () => {
    const error = await collectRpmPackages(options({ packages: ['ferry-a', 'ferry-nosuch'] }), ctxFor('nosuch')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('no repo has a package named ferry-nosuch');
  }, T);

  it('enables a non-default module stream named as @module:stream, the way gpuBuildPackages names the driver', async () => {
    const streamed = await collectRpmPackages(options({ packages: ['@ferry-mod:2'] }), ctxFor('stream'));
    expect(names(streamed)).toEqual(['ferry-mod-2.0']);
  }, T);

  it('carries, per GPU kernel, the first package set dnf resolves, each in its own run (two streams of one module in one bundle)', async () => {
    // Kernel k1: its "precompiled" set names a stream the repo lacks, so its second set (stream 2) is carried; k2's
    // first set (stream 1) resolves. One dnf transaction could not enable both streams.
    const gpu = [
      { kernel: 'k1', alternatives: [{ kind: 'precompiled' as const, key: 'ferry-nosuch', packages: ['@ferry-mod:9', 'ferry-nosuch'] }, { kind: 'dkms' as const, key: 'ferry-a', packages: ['@ferry-mod:2', 'ferry-a'] }] },
      { kernel: 'k2', alternatives: [{ kind: 'precompiled' as const, key: 'ferry-mod', packages: ['@ferry-mod:1'] }] },
    ];
    const carried = await collectRpmPackages(options({ packages: [], gpu }), ctxFor('gpu-sets'));
    expect(names(carried)).toEqual(['ferry-a-1.0', 'ferry-b-1.0', 'ferry-c-2.0', 'ferry-mod-1.0', 'ferry-mod-2.0', 'ferry-provider-1:3.1']);
  }, T);

  it('names the kernel and what each set lacked when no set resolves', async () => {
    const gpu = [{ kernel: 'k1', alternatives: [{ kind: 'precompiled' as const, key: 'ferry-nosuch', packages: ['ferry-nosuch'] }, { kind: 'dkms' as const, key: 'x', packages: ['@ferry-nomod:1'] }] }];
    const error = await collectRpmPackages(options({ packages: ['ferry-a'], gpu }), ctxFor('gpu-none')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe('cannot carry the NVIDIA driver for kernel k1: precompiled: the repositories have no ferry-nosuch; dkms: the repositories have no @ferry-nomod:1');
  }, T);

  it('refuses unsigned packages from a repo with gpgcheck, naming each one', async () => {
    const repos = [{ id: 'fixture', baseurl: fixture.baseurl, gpgcheck: true, gpgkey: `${fixture.baseurl}repodata/repomd.xml` }];
    const error = await collectRpmPackages(options({ repos, packages: ['ferry-a'] }), ctxFor('unsigned')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyError);
    expect((error as VerifyError).problems).toContain('Package ferry-a-1.0-1.noarch.rpm is not signed');
  }, T);

  it('resolves for the target architecture, not the build host\'s', async () => {
    const arm = await collectRpmPackages(options({ arch: 'arm64', packages: ['ferry-a'] }), ctxFor('arm'));
    expect(arm.find((a) => a.name === 'ferry-a')!.path).toBe('packages/rocky-8.10/aarch64/ferry-a-1.0-1.noarch.rpm');
  }, T);

  it('serves a second build from the persistent cache without fetching any RPM again', async () => {
    const before = fixture.server.log.filter((l) => l.path.endsWith('.rpm')).length;
    const again = await collectRpmPackages(options({}), ctxFor('again'));
    expect(fixture.server.log.filter((l) => l.path.endsWith('.rpm')).length).toBe(before);
    expect(names(again)).toEqual(names(full));
  }, T);
});
