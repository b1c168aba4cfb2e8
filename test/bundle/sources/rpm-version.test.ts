import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareEvr, formatNevra, parseNevra, rpmvercmp, subtractInstalled } from '../../../src/bundle/sources/rpm-version.ts';

// Cases from rpm's own test suite, tests/rpmvercmp.at (rpm-software-management/rpm): [a, b, expected].
const RPMVERCMP_AT: [string, string, number][] = [
  ['1.0', '1.0', 0], ['1.0', '2.0', -1], ['2.0', '1.0', 1],
  ['2.0.1', '2.0.1', 0], ['2.0', '2.0.1', -1], ['2.0.1', '2.0', 1],
  ['2.0.1a', '2.0.1a', 0], ['2.0.1a', '2.0.1', 1], ['2.0.1', '2.0.1a', -1],
  ['5.5p1', '5.5p2', -1], ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1], ['10.1xyz', '10xyz', 1],
  ['xyz10', 'xyz10.1', -1], ['xyz.4', '8', -1], ['8', 'xyz.4', 1], ['xyz.4', '2', -1],
  ['5.5p2', '5.6p1', -1], ['6.0.rc1', '6.0', 1], ['6.0', '6.0.rc1', -1],
  ['10b2', '10a1', 1], ['10a2', '10b2', -1], ['1.0a', '1.0aa', -1], ['1.0aa', '1.0a', 1],
  ['10.0001', '10.1', 0], ['10.0001', '10.0039', -1], ['4.999.9', '5.0', -1],
  ['20101121', '20101122', -1], ['2.0', '2_0', 0], ['a+', 'a_', 0], ['+', '_', 0],
  ['1.0~rc1', '1.0', -1], ['1.0', '1.0~rc1', 1], ['1.0~rc1', '1.0~rc2', -1], ['1.0~rc1~git123', '1.0~rc1', -1],
  ['1.0^', '1.0', 1], ['1.0', '1.0^', -1], ['1.0^git1', '1.0', 1], ['1.0^git1', '1.0^git2', -1],
  ['1.0^git1', '1.01', -1], ['1.01', '1.0^git1', 1], ['1.0^20160101', '1.0.1', -1],
  ['1.0^20160102', '1.0^20160101^git1', 1], ['1.0~rc1^git1', '1.0~rc1', 1], ['1.0~rc1', '1.0~rc1^git1', -1],
  ['1.0^git1', '1.0^git1~pre', 1], ['1.0^git1~pre', '1.0^git1', -1],
];

describe('rpmvercmp', () => {
  it.each(RPMVERCMP_AT)('rpmvercmp(%s, %s) = %i (rpm tests/rpmvercmp.at)', (a, b, want) => {
    expect(rpmvercmp(a, b)).toBe(want);
  });

  it('agrees with the real rpm on every case', () => {
    const script = RPMVERCMP_AT.map(([a, b]) => `print(rpm.vercmp("${a}", "${b}") .. " ")`).join(' ');
    const out = execFileSync('rpm', ['--eval', `%{lua: ${script}}`]).toString().trim().split(/\s+/).map(Number);
    expect(out).toEqual(RPMVERCMP_AT.map(([a, b]) => rpmvercmp(a, b)));
  });

  it('compares epoch before version and release', () => {
    expect(compareEvr({ epoch: 1, version: '1.0', release: '1' }, { epoch: 0, version: '9.9', release: '9' })).toBe(1);
    expect(compareEvr({ epoch: 0, version: '1.0', release: '2.el9' }, { epoch: 0, version: '1.0', release: '10.el9' })).toBe(-1);
  });
});

describe('parseNevra', () => {
  it.each([
    // Lines as `rpm -qa` prints them on Rocky Linux 9.
    ['bash-5.1.8-9.el9.x86_64', { name: 'bash', epoch: 0, version: '5.1.8', release: '9.el9', arch: 'x86_64' }],
    ['python3-libs-3.9.18-3.el9_4.5.x86_64', { name: 'python3-libs', epoch: 0, version: '3.9.18', release: '3.el9_4.5', arch: 'x86_64' }],
    ['openssl-1:3.0.7-27.el9.x86_64', { name: 'openssl', epoch: 1, version: '3.0.7', release: '27.el9', arch: 'x86_64' }],
    ['tzdata-2024a-1.el9.noarch', { name: 'tzdata', epoch: 0, version: '2024a', release: '1.el9', arch: 'noarch' }],
  ])('parses %s', (text, want) => {
    expect(parseNevra(text)).toEqual(want);
    expect(formatNevra(parseNevra(text)!)).toBe(text);
  });

  it.each(['bash', 'python3-libs', 'kernel-devel-matched', 'gpg-pubkey-fd431d51-4ae0493b'])('treats %s as a bare name', (text) => {
    expect(parseNevra(text)).toBeUndefined();
  });
});

describe('subtractInstalled', () => {
  const closure = ['bash-5.1.8-9.el9.x86_64', 'glibc-2.34-100.el9.x86_64', 'haproxy-2.4.22-3.el9.x86_64', 'tzdata-2024a-1.el9.noarch'].map(
    (t) => parseNevra(t)!,
  );
  it.each([
    { name: 'drops what the node has at the same version', installed: ['bash-5.1.8-9.el9.x86_64'], keep: ['glibc', 'haproxy', 'tzdata'] },
    { name: 'drops what the node has newer', installed: ['glibc-2.34-120.el9.x86_64'], keep: ['bash', 'haproxy', 'tzdata'] },
    { name: 'keeps what the node has older (it must be upgraded)', installed: ['glibc-2.34-83.el9.x86_64'], keep: ['bash', 'glibc', 'haproxy', 'tzdata'] },
    { name: 'keeps a package installed for another arch', installed: ['glibc-2.34-100.el9.i686'], keep: ['bash', 'glibc', 'haproxy', 'tzdata'] },
    { name: 'a bare name satisfies any version', installed: ['tzdata', 'bash'], keep: ['glibc', 'haproxy'] },
  ])('$name', ({ installed, keep }) => {
    expect(subtractInstalled(closure, installed).keep.map((p) => p.name)).toEqual(keep);
  });
});
