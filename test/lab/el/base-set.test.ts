import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { baseListFile, baseRpmSpec, parseBaseList } from '../../../src/lab/el/base-set.ts';

describe('the EL lab base set', () => {
  it.each([
    { name: 'plain', line: 'bash-5.1.8-9.el9.x86_64', want: { name: 'bash', version: '5.1.8', release: '9.el9', arch: 'x86_64', provides: [], conflicts: [] } },
    { name: 'epoch', line: 'openssl-libs-1:3.0.7-27.el9.x86_64', want: { name: 'openssl-libs', epoch: 1, version: '3.0.7', release: '27.el9', arch: 'x86_64', provides: [], conflicts: [] } },
    { name: 'provides and conflicts', line: 'curl-minimal-7.76.1-29.el9_4.x86_64 | curl = 7.76.1-29.el9_4 | conflicts: curl(x86-64)', want: { name: 'curl-minimal', version: '7.76.1', release: '29.el9_4', arch: 'x86_64', provides: ['curl = 7.76.1-29.el9_4'], conflicts: ['curl(x86-64)'] } },
    { name: 'noarch, file provides', line: 'rocky-release-9.4-1.7.el9.noarch | system-release(releasever) = 9, /etc/x', want: { name: 'rocky-release', version: '9.4', release: '1.7.el9', arch: 'noarch', provides: ['system-release(releasever) = 9', '/etc/x'], conflicts: [] } },
  ])('reads a line: $name', ({ line, want }) => {
    expect(parseBaseList(`# comment\n\n${line}\n`)).toEqual([want]);
  });

  it('refuses a line that is not a NEVRA', () => {
    expect(() => parseBaseList('bash\n')).toThrow(/not a NEVRA: bash/);
  });

  it('the Rocky 9.4 list has what dnf and ferry rely on: releasever, curl-minimal, /bin/sh, and a stated source', async () => {
    const text = await readFile(baseListFile('9.4'), 'utf8');
    expect(text).toMatch(/SOURCES/);
    const set = parseBaseList(text);
    const byName = new Map(set.map((p) => [p.name, p]));
    expect(byName.get('rocky-release')?.provides).toContain('system-release(releasever) = 9');
    expect(byName.get('curl-minimal')?.provides).toContain('curl = 7.76.1-29.el9_4');
    expect(byName.get('bash')?.provides).toContain('/bin/sh');
    expect(new Set(set.map((p) => p.name)).size).toBe(set.length);
    expect(baseRpmSpec(byName.get('openssl')!)).toMatchObject({ name: 'openssl', epoch: 1, version: '3.0.7', release: '27.el9', arch: 'x86_64' });
    expect(baseRpmSpec(byName.get('openssl')!).files).toBeUndefined();
  });
});
