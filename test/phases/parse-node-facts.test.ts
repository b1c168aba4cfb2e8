import { describe, expect, it } from 'vitest';
import { interfaceOf, parseNodeFacts, parseOsRelease, sshClientAddress } from '../../src/phases/parse-node-facts.ts';
import { matchesLockOs } from '../../src/phases/preflight.ts';
import { parseInstalled, pickFamily } from '../../src/phases/os/pick.ts';
import { fixture } from './fixtures.ts';

// `ip -o -4 addr show` lines as printed on the Debian 12 test machine and a lab node (host0@if341 is nspawn's veth).
const IP_ADDR = [
  '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
  '2: host0@if341    inet 10.213.205.11/24 brd 10.213.205.255 scope global host0\\       valid_lft forever preferred_lft forever',
].join('\n');

const facts = (osRelease: string) =>
  `==ferry:os-release==\n${osRelease}==ferry:kernel==\n6.18.44-fc-v782\n==ferry:machine==\nx86_64\n==ferry:addresses==\n${IP_ADDR}\n`;

describe('node facts', () => {
  it('reads Debian 12 and Rocky 8.6 os-release files', () => {
    expect(parseOsRelease(fixture('debian12-os-release'))).toMatchObject({ ID: 'debian', VERSION_ID: '12', PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)' });
    expect(parseOsRelease(fixture('rocky86-os-release'))).toMatchObject({ ID: 'rocky', ID_LIKE: 'rhel centos fedora', VERSION_ID: '8.6' });
  });

  it('finds the interface that carries the node address, veth suffix dropped', () => {
    expect(interfaceOf(IP_ADDR, '10.213.205.11')).toBe('host0');
    expect(interfaceOf(IP_ADDR, '10.213.205.12')).toBeUndefined();
  });

  it('parses the whole facts script output and refuses output without its sections', () => {
    expect(parseNodeFacts('n1', facts(fixture('debian12-os-release')), '10.213.205.11')).toEqual({
      os: { id: 'debian', idLike: [], versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
      kernel: '6.18.44-fc-v782', machine: 'x86_64', interface: 'host0',
    });
    expect(() => parseNodeFacts('n1', 'garbage', '10.0.0.1')).toThrow(/n1: the facts script printed no os-release, kernel, machine, addresses/);
  });

  it.each([
    ['debian12-os-release', 'debian'],
    ['rocky86-os-release', 'el'],
  ])('picks the family of %s', (file, family) => {
    expect(pickFamily('n1', parseNodeFacts('n1', facts(fixture(file)), '10.213.205.11')).id).toBe(family);
  });

  it('refuses an OS it does not know, by name', () => {
    expect(() => pickFamily('n1', { os: { id: 'arch', idLike: [], versionId: '', prettyName: 'Arch Linux' } })).toThrow(/n1: Arch Linux \(ID=arch\) is not an OS ferry installs on/);
  });

  it.each([
    ['same id and major', { id: 'rocky', version: '8.10' }, true],
    ['other major', { id: 'rocky', version: '9.4' }, false],
    ['other id', { id: 'rhel', version: '8.6' }, false],
  ])('matches the lock OS: %s', (_n, lockOs, ok) => {
    const f = parseNodeFacts('n1', facts(fixture('rocky86-os-release')), '10.213.205.11');
    expect(matchesLockOs(f, lockOs)).toBe(ok);
  });

  it('reads installed packages from dpkg-query and rpm output alike', () => {
    const deb = parseInstalled(fixture('debian12-lab-dpkg-query.txt'));
    expect(deb.has('openssh-server')).toBe(true);
    expect(deb.has('containerd')).toBe(false);
    expect([...parseInstalled(fixture('el-rpm-qa.txt'))]).toEqual(['bash', 'systemd', 'dnf', 'containerd.io']);
    expect(parseInstalled('rc  haproxy\nii  curl\n')).toEqual(new Set(['curl']));
  });
});

describe('the admin host as the node sees it', () => {
  // $SSH_CLIENT is "client-address client-port server-port" (sshd(8), ENVIRONMENT).
  it.each([
    { name: 'an IPv4 session', text: '10.252.33.1 41234 22\n', want: { adminAddress: '10.252.33.1' } },
    { name: 'no SSH session (sudo reset the environment)', text: '\n', want: {} },
    { name: 'an IPv6 session', text: 'fe80::1 41234 22\n', want: {} },
    { name: 'no section at all', text: undefined, want: {} },
  ])('$name', ({ text, want }) => {
    expect(sshClientAddress(text)).toEqual(want);
  });
});

describe('VRRP router id', () => {
  it('is stable for a cluster name and within 1-255', async () => {
    const { virtualRouterId } = await import('../../src/phases/render-inputs.ts');
    for (const name of ['a', 'gpu-lab', 'x'.repeat(63)]) {
      const id = virtualRouterId(name);
      expect(id).toBe(virtualRouterId(name));
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(255);
    }
    expect(virtualRouterId('gpu-lab')).not.toBe(virtualRouterId('gpu-lab-2'));
  });
});
