import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VerifyError } from '../../../src/errors.ts';
import { dnfDownloadArgs, dnfFailure, onlyMissing, parseDnfProblems, parseDnfResolved, repomdLocation, rpmArch } from '../../../src/bundle/sources/rpm-plan.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/dnf/${name}`, import.meta.url), 'utf8');

describe('dnfDownloadArgs', () => {
  const base = { configFile: '/c/dnf.conf', installroot: '/c/root', releasever: '8.10', arch: 'amd64', downloaddir: '/c/packages', packages: ['haproxy', '@nvidia-driver:580-open'] };
  it('sees only the given repos, for the target release, arch and platform', () => {
    const argv = dnfDownloadArgs({ ...base, repos: [{ id: 'baseos', baseurl: 'http://m/BaseOS/' }, { id: 'appstream', baseurl: 'http://m/AppStream/', gpgcheck: true, gpgkey: 'file:///k', module_hotfixes: true }] });
    expect(argv).toEqual([
      'dnf', '-v', '-y', '--config=/c/dnf.conf', '--installroot=/c/root', '--releasever=8.10', '--forcearch=x86_64',
      '--setopt=reposdir=/dev/null', '--setopt=install_weak_deps=False', '--setopt=module_platform_id=platform:el8', '--disableplugin=*',
      '--repofrompath=baseos,http://m/BaseOS/', '--setopt=baseos.gpgcheck=0',
      '--repofrompath=appstream,http://m/AppStream/', '--setopt=appstream.gpgcheck=1', '--setopt=appstream.gpgkey=file:///k', '--setopt=appstream.module_hotfixes=1',
      '--repo=baseos,appstream', 'install', '--downloadonly', '--downloaddir=/c/packages', 'haproxy', '@nvidia-driver:580-open',
    ]);
  });

  it('refuses a repo id that could smuggle options', () => {
    expect(() => dnfDownloadArgs({ ...base, repos: [{ id: 'x,--setopt=y', baseurl: 'http://m/' }] })).toThrow(/repo id/);
  });

  it.each([['amd64', 'x86_64'], ['arm64', 'aarch64'], ['x86_64', 'x86_64'], ['ppc64le', 'ppc64le']])('spells %s as %s', (a, b) => {
    expect(rpmArch(a)).toBe(b);
  });
});

describe('reading dnf output (real dnf 4.14 output, test/fixtures/dnf)', () => {
  it('lists the resolved transaction, epoch included', () => {
    expect(parseDnfResolved(fixture('install-downloadonly-v.txt'))).toEqual([
      { name: 'ferry-a', arch: 'noarch', epoch: 0, version: '1.0', release: '1' },
      { name: 'ferry-b', arch: 'noarch', epoch: 0, version: '1.0', release: '1' },
      { name: 'ferry-c', arch: 'noarch', epoch: 0, version: '2.0', release: '1' },
      { name: 'ferry-mod', arch: 'noarch', epoch: 0, version: '1.0', release: '1' },
      { name: 'ferry-provider', arch: 'noarch', epoch: 1, version: '3.1', release: '1' },
    ]);
  });

  it('names what nothing provides and who needs it', () => {
    const problems = parseDnfProblems(fixture('nothing-provides.txt'));
    expect(problems.nothingProvides).toEqual([{ what: 'libghost.so.1()(64bit)', neededBy: 'ferry-broken-0.1-1.noarch' }]);
    expect(dnfFailure(problems, [{ id: 'fixture', baseurl: 'http://x/' }]).message).toBe(
      'cannot resolve the RPM packages against fixture:\n  ferry-broken-0.1-1.noarch needs libghost.so.1()(64bit), which nothing in the repos provides',
    );
  });

  it('names a requested package that no repo has', () => {
    const problems = parseDnfProblems(fixture('no-match.txt'));
    expect(problems.noMatch).toEqual(['ferry-nosuch']);
    expect(dnfFailure(problems, []).message).toContain('no repo has a package named ferry-nosuch');
  });

  it('says which module stream has no default profile, instead of failing without saying why', () => {
    const problems = parseDnfProblems(fixture('no-default-profile.txt'));
    expect(onlyMissing(problems)).toBeUndefined();
    expect(dnfFailure(problems, []).message).toBe('cannot resolve the RPM packages against :\n  No default profiles for module nvidia-driver:620-open. Available profiles: default');
  });

  it.each([
    { name: 'a package no repo has: only missing, another set may resolve', file: 'no-match.txt', want: ['ferry-nosuch'] },
    { name: 'a module stream no repo has, as @module:stream', file: 'module-not-available.txt', want: ['@ferry-mod:9'] },
    { name: 'an unmet dependency is more than missing', file: 'nothing-provides.txt', want: undefined },
    { name: 'a signature failure is more than missing', file: 'unsigned.txt', want: undefined },
  ])('onlyMissing: $name', ({ file, want }) => {
    expect(onlyMissing(parseDnfProblems(fixture(file)))).toEqual(want);
  });

  it('turns signature failures into a VerifyError listing each package', () => {
    const problems = parseDnfProblems(fixture('unsigned.txt'));
    expect(problems.signature).toEqual([
      'Package ferry-a-1.0-1.noarch.rpm is not signed',
      'Package ferry-b-1.0-1.noarch.rpm is not signed',
      'Package ferry-c-2.0-1.noarch.rpm is not signed',
      'Package ferry-provider-3.1-1.noarch.rpm is not signed',
    ]);
    const error = dnfFailure(problems, []);
    expect(error).toBeInstanceOf(VerifyError);
    expect(error.message).toContain('Package ferry-provider-3.1-1.noarch.rpm is not signed');
  });

  it('falls back to dnf\'s own error lines when it cannot tell more', () => {
    const out = "Error: Failed to download metadata for repo 'baseos': Cannot download repomd.xml";
    expect(dnfFailure(parseDnfProblems(out), []).message).toContain("Failed to download metadata for repo 'baseos'");
  });
});

describe('repomdLocation', () => {
  // Shape of an EL8 AppStream repomd.xml entry (createrepo_c output), trimmed to the fields read.
  const repomd = `<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1714000000</revision>
  <data type="primary">
    <checksum type="sha256">aa</checksum>
    <location href="repodata/aa-primary.xml.gz"/>
  </data>
  <data type="modules">
    <checksum type="sha256">bb</checksum>
    <location href="repodata/bb-modules.yaml.xz"/>
  </data>
</repomd>`;
  it('finds the modules entry', () => {
    expect(repomdLocation(repomd, 'modules')).toBe('repodata/bb-modules.yaml.xz');
    expect(repomdLocation(repomd, 'group')).toBeUndefined();
  });
});
