// Certificate expiry: kubeadm's check-expiration output (fixtures from kubernetes.io and a kubeadm 1.33 capture; see
// fixtures/README.md) and openssl's -enddate parse into entries, and the verdict is warn under 30 days, fail under 7.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnexpectedOutputError } from '../../src/errors.ts';
import { judgeExpiry, parseCheckExpiration, parseKubeadmDate, parseOpensslEnddate, parseOpensslList, worstStatus, type CertExpiry } from '../../src/certs/expiry.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('parseCheckExpiration', () => {
  it.each([
    ['kubeadm 1.17 on kubernetes.io (empty CA column for kubeconfigs)', 'kubeadm-1.17-docs.txt', 10, '2020-12-30T23:36:00.000Z', undefined],
    ['kubeadm 1.33 capture (progress lines, padded last column, super-admin.conf)', 'kubeadm-1.33-capture.txt', 11, '2026-08-19T09:03:00.000Z', 'ca'],
  ])('reads %s', (_name, file, certs, adminExpiry, adminCa) => {
    const entries = parseCheckExpiration(fixture(file));
    expect(entries.filter((e) => e.kind === 'certificate')).toHaveLength(certs);
    expect(entries.filter((e) => e.kind === 'authority').map((e) => e.name)).toEqual(['ca', 'etcd-ca', 'front-proxy-ca']);
    const admin = entries.find((e) => e.name === 'admin.conf')!;
    expect(admin.notAfter?.toISOString()).toBe(adminExpiry);
    expect(admin.authority).toBe(adminCa);
    expect(entries.find((e) => e.name === 'front-proxy-client')?.authority).toBe('front-proxy-ca');
    expect(entries.every((e) => !e.externallyManaged)).toBe(true);
  });

  it('reads !MISSING! rows as entries without a date', () => {
    const text = fixture('kubeadm-1.33-capture.txt').replace(/^super-admin\.conf .*$/m, '!MISSING! super-admin.conf');
    const entry = parseCheckExpiration(text).find((e) => e.name === 'super-admin.conf');
    expect(entry).toEqual({ name: 'super-admin.conf', kind: 'certificate', notAfter: undefined, externallyManaged: false });
  });

  it.each([
    ['no table at all', 'error execution phase: something failed\n'],
    ['a row with a date kubeadm never prints', fixture('kubeadm-1.33-capture.txt').replace('Aug 19, 2026 09:03 UTC', '2026-08-19 09:03     ')],
    ['a row before any header', 'apiserver   Aug 19, 2026 09:03 UTC   360d   ca   no\n'],
  ])('refuses %s', (_name, text) => {
    expect(() => parseCheckExpiration(text)).toThrow(UnexpectedOutputError);
  });

  it.each([
    ['Aug 19, 2026 09:03 UTC', '2026-08-19T09:03:00.000Z'],
    ['Jan 02, 2006 15:04 UTC', '2006-01-02T15:04:00.000Z'],
    ['Foo 02, 2006 15:04 UTC', undefined],
    ['Jan 2, 2006 15:04 UTC', undefined],
  ])('parses the kubeadm date %s', (text, iso) => {
    expect(parseKubeadmDate(text)?.toISOString()).toBe(iso);
  });
});

describe('openssl -enddate', () => {
  it('reads the fallback listing, CAs by their file name', () => {
    const entries = parseOpensslList(fixture('openssl-enddate.txt'));
    expect(entries.map((e) => [e.name, e.kind, e.notAfter?.toISOString()])).toEqual([
      ['apiserver.crt', 'certificate', '2027-12-07T04:43:17.000Z'],
      ['ca.crt', 'authority', '2036-12-04T04:43:17.000Z'],
      ['etcd/server.crt', 'certificate', '2026-12-17T04:43:17.000Z'],
    ]);
  });

  it.each([['notAfter=Dec  7 04:39:37 2027 GMT', '2027-12-07T04:39:37.000Z'], ['notAfter=Feb 28 23:59:59 2030 GMT', '2030-02-28T23:59:59.000Z']])('parses %s', (text, iso) => {
    expect(parseOpensslEnddate(text).toISOString()).toBe(iso);
  });

  it('refuses anything else', () => {
    expect(() => parseOpensslEnddate('unable to load certificate')).toThrow(UnexpectedOutputError);
  });
});

describe('judgeExpiry', () => {
  const now = new Date('2026-12-07T00:00:00Z');
  const at = (days: number, kind: CertExpiry['kind'] = 'certificate'): CertExpiry => ({ name: 'apiserver', kind, notAfter: new Date(now.getTime() + days * 86_400_000), externallyManaged: false });
  it.each([
    ['a year left', at(365), 'pass', 365],
    ['exactly 30 days left', at(30), 'pass', 30],
    ['29.5 days left', at(29.5), 'warn', 29],
    ['exactly 7 days left', at(7), 'warn', 7],
    ['6 days left', at(6), 'fail', 6],
    ['expired yesterday', at(-1), 'fail', -1],
    ['a CA with 20 days left', at(20, 'authority'), 'warn', 20],
  ])('%s → %s', (_name, entry, status, days) => {
    const [v] = judgeExpiry([entry], now);
    expect(v!.status).toBe(status);
    expect(v!.daysLeft).toBe(days);
    if (status !== 'pass') expect(v!.remedy).toBeDefined();
  });

  it('names a CA rotation, not kubeadm certs renew, for an expiring CA', () => {
    expect(judgeExpiry([at(3, 'authority')], now)[0]!.remedy).toContain('manual-rotation-of-ca-certificates');
    expect(judgeExpiry([at(3)], now)[0]!.remedy).toContain('kubeadm certs renew all');
  });

  it('passes a missing super-admin.conf (first control plane only) and warns on any other missing file', () => {
    const v = judgeExpiry([{ name: 'super-admin.conf', kind: 'certificate', notAfter: undefined, externallyManaged: false }, { name: 'apiserver', kind: 'certificate', notAfter: undefined, externallyManaged: false }], now);
    expect(v.map((x) => x.status)).toEqual(['pass', 'warn']);
    expect(worstStatus(v)).toBe('warn');
  });

  it('judges the 1.33 capture: all pass in 2025, all fail after August 2026', () => {
    const entries = parseCheckExpiration(fixture('kubeadm-1.33-capture.txt'));
    expect(worstStatus(judgeExpiry(entries, new Date('2025-08-24T00:00:00Z')))).toBe('pass');
    const late = judgeExpiry(entries, new Date('2026-08-20T00:00:00Z'));
    expect(late.filter((v) => v.status === 'fail').map((v) => v.name)).toHaveLength(11);
    expect(late.filter((v) => v.kind === 'authority').every((v) => v.status === 'pass')).toBe(true);
  });
});
