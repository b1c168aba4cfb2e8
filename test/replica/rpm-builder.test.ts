import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRpm, rpmFileName, specText, signRpms } from '../../src/replica/rpm-builder.ts';
import { makeSigningKey, stopGpgAgent } from '../../src/replica/apt-repo.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-rpm-builder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spec = {
  name: 'ferry-x', version: '1.2', release: '3.el9', summary: 'x', requires: ['glibc'], provides: ['x = 1'], conflicts: ['y'],
  files: { 'usr/bin/x': { text: '#!/bin/sh\n', mode: 0o755 }, 'etc/x.conf': { text: 'a\n', mode: 0o644 } },
  links: { 'usr/bin/xx': 'x' }, dirs: ['etc/x.d'], configs: ['etc/x.conf'], scripts: { post: 'echo $1' },
};

describe('buildRpm (rpmbuild)', () => {
  it('names files as the repos do and marks configs, dirs and links in %files', () => {
    expect(rpmFileName(spec)).toBe('ferry-x-1.2-3.el9.x86_64.rpm');
    const text = specText(spec, '/stage');
    expect(text).toContain('AutoReqProv: no');
    expect(text).toContain('%config(noreplace) "/etc/x.conf"');
    expect(text).toContain('%dir "/etc/x.d"');
    expect(text).toContain('"/usr/bin/xx"');
    expect(text).toMatch(/%post\necho \$1/);
  });

  it('builds the same bytes twice, with the header it was given, and signs it so rpm verifies it', async () => {
    const a = await buildRpm(spec, join(dir, 'a'));
    const b = await buildRpm(spec, join(dir, 'b'));
    const sum = async (f: string) => (await execa('sha256sum', [f])).stdout.split(' ')[0];
    expect(await sum(join(dir, 'a', a))).toBe(await sum(join(dir, 'b', b)));
    const q = (await execa('rpm', ['-qp', '--qf', '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} [%{REQUIRENAME} ][%{CONFLICTNAME}]\n', join(dir, 'a', a)])).stdout;
    // rpmbuild adds the scriptlet's interpreter (/bin/sh) and rpmlib() features; nothing from scanning the files.
    expect(q).toMatch(/^ferry-x 0:1\.2-3\.el9 \/bin\/sh glibc (rpmlib\(\S+\) )+y$/);
    const key = await makeSigningKey(join(dir, 'g'), 'rpm builder test <t@ferry.invalid>');
    try {
      await signRpms([join(dir, 'a', a)], key);
      await execa('sh', ['-c', 'printf %s "$1" > "$2"', 'sh', key.armored, join(dir, 'key.asc')]);
      await execa('rpm', ['--dbpath', join(dir, 'db'), '--import', join(dir, 'key.asc')]);
      expect((await execa('rpm', ['--dbpath', join(dir, 'db'), '-K', join(dir, 'a', a)])).stdout).toMatch(/digests signatures OK/);
    } finally {
      await stopGpgAgent(key.home);
    }
  }, 60_000);
});
