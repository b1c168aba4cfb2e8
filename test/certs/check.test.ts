// ferry certs check's node side: one read-only command whose marker says whether kubeadm or openssl answered, judged
// at the admin host's time. Fixtures: fixtures/README.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CERTS_COMMAND, checkHostCerts, judgeCertsOutput } from '../../src/certs/check.ts';
import { UnexpectedOutputError } from '../../src/errors.ts';
import { FakeHost } from '../support/fake-host.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('judgeCertsOutput', () => {
  it.each([
    ['kubeadm, a month before the 1.33 capture expires', `@@kubeadm\n${fixture('kubeadm-1.33-capture.txt')}`, '2026-07-01T00:00:00Z', 'kubeadm', 'pass'],
    ['kubeadm, 20 days before', `@@kubeadm\n${fixture('kubeadm-1.33-capture.txt')}`, '2026-07-30T00:00:00Z', 'kubeadm', 'warn'],
    ['kubeadm, 3 days before', `@@kubeadm\n${fixture('kubeadm-1.33-capture.txt')}`, '2026-08-16T00:00:00Z', 'kubeadm', 'fail'],
    ['openssl, etcd/server 10 days from its making', `@@openssl\n${fixture('openssl-enddate.txt')}`, '2026-12-07T05:00:00Z', 'openssl', 'warn'],
  ])('%s', (_name, stdout, now, source, status) => {
    const got = judgeCertsOutput('cp1', stdout, new Date(now));
    expect(got.source).toBe(source);
    expect(got.status).toBe(status);
  });

  it.each([
    ['no marker', fixture('kubeadm-1.33-capture.txt')],
    ['openssl found nothing (not a control plane)', '@@openssl\n'],
  ])('refuses %s', (_name, stdout) => {
    expect(() => judgeCertsOutput('cp1', stdout, new Date())).toThrow(UnexpectedOutputError);
  });
});

describe('checkHostCerts', () => {
  it('runs one read-only command', async () => {
    const host = new FakeHost('cp1', [{ command: CERTS_COMMAND.shell, stdout: `@@kubeadm\n${fixture('kubeadm-1.33-capture.txt')}`, readOnly: true }]);
    const got = await checkHostCerts(host, () => new Date('2026-01-01T00:00:00Z'));
    expect(got.certificates).toHaveLength(14);
    expect(host.mutating()).toEqual([]);
  });
});
