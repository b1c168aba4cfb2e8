import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSourcesDeb822, parseSourcesList } from '../../../src/bundle/sources/apt-sources.ts';
import { aptFailure, aptMissing, aptOptions, archiveFileName, debArch, parseAptSimulation, parseInstalledDeb, sourcesList, statusFile } from '../../../src/bundle/sources/deb-plan.ts';
import { formatDeb822, parseDeb822 } from '../../../src/bundle/sources/deb822.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/apt/${name}`, import.meta.url), 'utf8');

describe('apt configuration', () => {
  it('writes one-line sources for the target arch with signed-by and trusted', () => {
    expect(
      sourcesList(
        [
          { uri: 'http://mirror/debian', suite: 'bookworm', components: ['main', 'contrib'], signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' },
          { uri: 'file:/bundle/packages/debian-12/amd64', suite: './', components: [], trusted: true },
        ],
        'x86_64',
      ),
    ).toBe(
      'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror/debian bookworm main contrib\n' +
        'deb [arch=amd64 trusted=yes] file:/bundle/packages/debian-12/amd64 ./\n',
    );
  });

  it('refuses a source field with spaces or brackets', () => {
    expect(() => sourcesList([{ uri: 'http://m/ x', suite: 'bookworm', components: ['main'] }], 'amd64')).toThrow(/spaces/);
    expect(() => sourcesList([{ uri: 'http://m/', suite: 'bookworm]', components: ['main'] }], 'amd64')).toThrow(/brackets/);
  });

  it('points every apt directory at the private ones and pins the arch', () => {
    const o = aptOptions({ sourcelist: '/w/sources.list', state: '/w/state', status: '/w/status', cache: '/w/cache', log: '/w/log', trustedparts: '/w/keys' }, 'arm64', 'root');
    const pairs = Object.fromEntries(o.filter((_, i) => i % 2 === 1).map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string]));
    expect(o.filter((_, i) => i % 2 === 0).every((x) => x === '-o')).toBe(true);
    expect(pairs).toMatchObject({
      'Dir::Etc::sourcelist': '/w/sources.list',
      'Dir::Etc::sourceparts': '/dev/null',
      'Dir::Etc::trustedparts': '/w/keys',
      'Dir::State': '/w/state',
      'Dir::State::status': '/w/status',
      'Dir::Cache': '/w/cache',
      'APT::Architecture': 'arm64',
      'APT::Architectures': 'arm64',
      'APT::Install-Recommends': 'false',
      'APT::Sandbox::User': 'root',
    });
    expect(aptOptions({ sourcelist: 'a', state: 'b', status: 'c', cache: 'd', log: 'e', trustedparts: 'f' }, 'amd64')).not.toContain('APT::Sandbox::User=root');
  });

  it.each([['x86_64', 'amd64'], ['aarch64', 'arm64'], ['amd64', 'amd64']])('spells %s as %s', (a, b) => expect(debArch(a)).toBe(b));
});

describe('reading apt output (real apt 2.6 output, test/fixtures/apt)', () => {
  it('lists the simulated transaction, epochs and all-arch packages included', () => {
    const pkgs = parseAptSimulation(fixture('simulate-install.txt'));
    expect(pkgs).toHaveLength(86);
    expect(pkgs).toContainEqual({ name: 'haproxy', version: '2.6.12-1+deb12u4', arch: 'amd64' });
    expect(pkgs).toContainEqual({ name: 'keepalived', version: '1:2.2.7-1+b2', arch: 'amd64' });
    expect(pkgs).toContainEqual({ name: 'libaudit-common', version: '1:3.0.9-1', arch: 'all' });
    expect(pkgs).toContainEqual({ name: 'libc6', version: '2.36-9+deb12u14', arch: 'amd64' });
    expect(pkgs).toContainEqual({ name: 'runc', version: '1.1.5+ds1-1+deb12u1', arch: 'amd64' });
  });

  it('names archive files the way apt does, epoch colon escaped', () => {
    expect(archiveFileName({ name: 'keepalived', version: '1:2.2.7-1+b2', arch: 'amd64' })).toBe('keepalived_1%3a2.2.7-1+b2_amd64.deb');
    expect(archiveFileName({ name: 'runc', version: '1.1.5+ds1-1+deb12u1', arch: 'amd64' })).toBe('runc_1.1.5+ds1-1+deb12u1_amd64.deb');
  });

  it('names the package and the dependency nobody can satisfy', () => {
    expect(aptFailure(fixture('unmet-dependency.txt')).message).toBe('cannot resolve the Debian packages:\n  ferry-broken Depends: libghost1 (>= 2) but it is not installable');
  });

  it('names the version no source has', () => {
    expect(aptFailure(fixture('version-not-found.txt')).message).toBe("cannot resolve the Debian packages:\n  no source has containerd at version 9.9.9*");
  });

  it('names packages no source has', () => {
    expect(aptFailure(fixture('unable-to-locate.txt')).message).toBe('cannot resolve the Debian packages:\n  no source has a package named ferry-nosuch');
  });

  it.each([
    { name: 'a name no source has: only missing, another driver set may resolve', file: 'unable-to-locate.txt', want: ['ferry-nosuch'] },
    { name: 'an unmet dependency is more than missing', file: 'unmet-dependency.txt', want: undefined },
    { name: 'a version no source has (containerd.io={cri}*): missing too', file: 'version-not-found.txt', want: ['containerd'] },
  ])('aptMissing: $name', ({ file, want }) => {
    expect(aptMissing(fixture(file))).toEqual(want);
  });
});

describe('status file for a node', () => {
  const known = parseDeb822(fixture('cache-show.txt'));
  it.each([
    ['adduser', { name: 'adduser', arch: undefined, version: undefined }],
    ['adduser=3.134', { name: 'adduser', arch: undefined, version: '3.134' }],
    ['libcap2-bin:amd64=1:2.66-4+deb12u3+b1', { name: 'libcap2-bin', arch: 'amd64', version: '1:2.66-4+deb12u3+b1' }],
    ['libcap2-bin:amd64\t1:2.66-4+deb12u3+b1', { name: 'libcap2-bin', arch: 'amd64', version: '1:2.66-4+deb12u3+b1' }],
  ])('parses the installed entry %j', (entry, want) => {
    expect(parseInstalledDeb(entry)).toEqual(want);
  });

  it('uses the repository stanza (real Depends) marked installed, and a bare stanza for unknown versions', () => {
    const { text, unknown } = statusFile(['adduser', 'libcap2-bin=1:2.66-4+deb12u3+b1', 'mawk=1.3.4.20200120-3.1', 'nosuch'], known, 'amd64');
    const stanzas = parseDeb822(text);
    expect(stanzas.map((s) => [s.Package, s.Status, s.Version])).toEqual([
      ['adduser', 'install ok installed', '3.134'],
      ['libcap2-bin', 'install ok installed', '1:2.66-4+deb12u3+b1'],
      ['mawk', 'install ok installed', '1.3.4.20200120-3.1'],
    ]);
    expect(stanzas[1]!.Depends).toBe('libc6 (>= 2.34), libcap2 (>= 1:2.63)');
    expect(stanzas[0]!.Filename).toBeUndefined();
    expect(stanzas[2]!.Architecture).toBe('amd64');
    expect(unknown).toEqual(['nosuch']);
  });

  it("gives a node's package at a version the archive no longer has what the archive's version provides, and no Depends", () => {
    const archive = parseDeb822(fixture('cache-show-perl-base.txt'));
    const [perl] = parseDeb822(statusFile(['perl-base:amd64=5.36.0-7+deb12u2'], archive, 'amd64').text);
    expect(perl).toMatchObject({ Package: 'perl-base', Status: 'install ok installed', Version: '5.36.0-7+deb12u2', Architecture: 'amd64', Essential: 'yes' });
    expect(perl!.Provides).toMatch(/perlapi-5\.36\.0$/);
    expect(perl!['Pre-Depends']).toBeUndefined();
    const [same] = parseDeb822(statusFile(['perl-base:amd64=5.36.0-7+deb12u4'], archive, 'amd64').text);
    expect(same!['Pre-Depends']).toBe('libc6 (>= 2.35), libcrypt1 (>= 1:4.1.0), dpkg (>= 1.17.17)');
  });
});

describe('deb822 and apt sources', () => {
  it('round-trips stanzas with continuation lines', () => {
    const text = 'Package: a\nDescription: short\n long line\n .\n more\n\nPackage: b\n';
    expect(parseDeb822(text)).toEqual([{ Package: 'a', Description: 'short\n long line\n .\n more' }, { Package: 'b' }]);
    expect(formatDeb822(parseDeb822(text))).toBe(text);
  });

  it('reads the machine\'s deb822 sources, one entry per URI and suite', () => {
    const sources = parseSourcesDeb822(fixture('debian.sources'));
    expect(sources.map((s) => s.suite)).toEqual(['bookworm', 'bookworm-updates', 'bookworm-security']);
    expect(sources.every((s) => s.components.join() === 'main' && s.signedBy === '/usr/share/keyrings/debian-archive-keyring.gpg')).toBe(true);
  });

  it('skips disabled and source-only deb822 entries', () => {
    expect(parseSourcesDeb822('Types: deb-src\nURIs: http://m/\nSuites: s\nComponents: main\n\nTypes: deb\nEnabled: no\nURIs: http://m/\nSuites: s\nComponents: main\n')).toEqual([]);
  });

  it('reads one-line sources with options and comments', () => {
    expect(parseSourcesList('# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m/debian bookworm main contrib\ndeb-src http://m/debian bookworm main\ndeb [trusted=yes] file:/r ./\n')).toEqual([
      { uri: 'http://m/debian', suite: 'bookworm', components: ['main', 'contrib'], signedBy: '/k.gpg' },
      { uri: 'file:/r', suite: './', components: [], trusted: true },
    ]);
  });
});
