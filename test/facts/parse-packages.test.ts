import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFacts } from '../../src/facts/parse.ts';
import { splitSections } from '../../src/facts/sections.ts';
import { parseInstalledPackages } from '../../src/facts/parse-packages.ts';
import { gatherFacts } from '../../src/facts/gather.ts';
import { LocalHost } from '../../src/hosts/local.ts';

const out = (name: string) => readFileSync(new URL(`../fixtures/facts/packages/${name}`, import.meta.url), 'utf8');

describe('installed packages in the facts', () => {
  it('reads dpkg-query lines, keeping installed packages only (not `rc`)', () => {
    const p = parseInstalledPackages(splitSections(out('dpkg.out')));
    expect(p?.manager).toBe('dpkg');
    expect(p?.packages).toHaveLength(10);
    expect(p?.packages).toContainEqual({ name: 'apache2-utils', version: '2.4.71-1~deb12u1', arch: 'amd64' });
    expect(p?.packages.map((x) => x.name)).not.toContain('docker-ce');
  });

  it('reads rpm lines with the epoch in the version, and drops gpg-pubkey', () => {
    expect(parseInstalledPackages(splitSections(out('rpm.out')))).toEqual({
      manager: 'rpm',
      packages: [
        { name: 'ferry-epoch-demo', version: '1:1.1.1k-12.el8_9', arch: 'x86_64' },
        { name: 'ferry-plain-demo', version: '1.1.1k-12.el8_9', arch: 'noarch' },
      ],
    });
  });

  it.each([
    ['a name with a space', 'ii \tbad name\t1.0\tamd64'],
    ['a shell metacharacter in the version', 'ii \tfoo\t1.0;rm\tamd64'],
    ['a missing arch', 'ii \tfoo\t1.0'],
  ])('drops a line with %s', (_n, line) => {
    expect(parseInstalledPackages(splitSections(`@@ferry packages\nmanager dpkg\n${line}\n@@ferry-rc packages 0\n`))?.packages).toEqual([]);
  });

  it('is absent when the section was not asked for', () => {
    expect(parseFacts('n', '@@ferry uname\nLinux 6.1.0-37-amd64 x86_64\n@@ferry-rc uname 0\n').packages).toBeUndefined();
  });

  it('runs for real: gather.sh with packages lists what dpkg-query lists on this machine, in the same round trip', async () => {
    const host = new LocalHost('self');
    const plain = await gatherFacts(host);
    expect(plain.packages).toBeUndefined();
    const f = await gatherFacts(host, { packages: true });
    const direct = (await host.exec(['dpkg-query', '-W', '-f=${db:Status-Abbrev} ${Package}\n'])).stdout.split('\n').filter((l) => /^.i/.test(l)).length;
    expect(f.packages?.manager).toBe('dpkg');
    expect(f.packages?.packages.length).toBe(direct);
    expect(f.os.id).toBe(plain.os.id);
  });
});
