// install's view of a node's facts: gather.sh's output (doctor's script) parsed once, with the kernel, machine,
// inventory interface and the admin host's address at hand; the OS family from the one table.
import { describe, expect, it } from 'vitest';
import { parseNodeFacts } from '../../src/facts/node.ts';
import { interfaceOf, parseAddresses, sshClientAddress } from '../../src/facts/parse-network.ts';
import { matchesLockOs } from '../../src/phases/preflight.ts';
import { parseInstalled, pickFamily } from '../../src/phases/os/pick.ts';
import { fixture } from '../phases/fixtures.ts';
import { fixtureFacts, fixtureText, gatherOutput } from './fixtures.ts';

// `ip -o -4 addr show` lines as printed on the Debian 12 test machine and a lab node (host0@if341 is nspawn's veth).
const IP_ADDR = [
  '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
  '2: host0@if341    inet 10.213.205.11/24 brd 10.213.205.255 scope global host0\\       valid_lft forever preferred_lft forever',
].join('\n');

const facts = (osRelease: string, sshClient = '') =>
  gatherOutput({ uname: 'Linux 6.18.44-fc-v782 x86_64', 'os-release': osRelease, addresses: IP_ADDR, 'ssh-client': sshClient });

describe('node facts', () => {
  it('finds the interface that carries the node address, veth suffix dropped', () => {
    expect(interfaceOf(parseAddresses(IP_ADDR.split('\n')), '10.213.205.11')).toBe('host0');
    expect(interfaceOf(parseAddresses(IP_ADDR.split('\n')), '10.213.205.12')).toBeUndefined();
  });

  it('reads the whole gather.sh output and refuses output without an OS or a kernel', () => {
    const f = parseNodeFacts('n1', facts(fixture('debian12-os-release'), '10.213.205.1 41234 22'), '10.213.205.11');
    expect({ ...f, gathered: undefined }).toEqual({
      os: { id: 'debian', idLike: [], versionId: '12', family: 'debian', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
      kernel: '6.18.44-fc-v782', machine: 'x86_64', interface: 'host0', adminAddress: '10.213.205.1', gathered: undefined,
    });
    expect(f.gathered.addresses).toHaveLength(2);
    expect(() => parseNodeFacts('n1', 'garbage', '10.0.0.1')).toThrow(/n1: \/etc\/os-release names no ID/);
    expect(() => parseNodeFacts('n1', gatherOutput({ 'os-release': fixture('debian12-os-release') }), '10.0.0.1')).toThrow(/n1: the facts script printed no kernel release/);
  });

  it('is the reading doctor checks: a real lab node gives install its view and doctor its facts from one output', () => {
    const f = parseNodeFacts('node1', fixtureText('debian12-lab-node'), '10.0.0.1');
    expect(f.gathered).toEqual(fixtureFacts('debian12-lab-node', 'node1'));
    expect(f.os).toBe(f.gathered.os);
    expect([f.kernel, f.machine]).toEqual([f.gathered.kernel.release, f.gathered.kernel.arch]);
  });

  it.each([
    ['debian12-os-release', 'debian'],
    ['rocky86-os-release', 'el'],
  ])('picks the install family of %s', (file, family) => {
    expect(pickFamily('n1', parseNodeFacts('n1', facts(fixture(file)), '10.213.205.11')).id).toBe(family);
  });

  it('refuses an OS it does not know, by name', () => {
    expect(() => pickFamily('n1', { os: { id: 'arch', idLike: [], versionId: '', family: 'other', prettyName: 'Arch Linux' } })).toThrow(/n1: Arch Linux \(ID=arch\) is not an OS ferry installs on/);
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
    expect(parseInstalled('rc  haproxy\nii  curl\nhi  kubeadm\n')).toEqual(new Set(['curl']));
    expect(parseInstalled('rc  haproxy\nii  curl\nhi  kubeadm\n', { held: true })).toEqual(new Set(['curl', 'kubeadm']));
  });
});

describe('the admin host as the node sees it', () => {
  // $SSH_CLIENT is "client-address client-port server-port" (sshd(8), ENVIRONMENT).
  it.each([
    { name: 'an IPv4 session', text: '10.252.33.1 41234 22\n', want: '10.252.33.1' },
    { name: 'no SSH session (sudo reset the environment)', text: '\n', want: undefined },
    { name: 'an IPv6 session', text: 'fe80::1 41234 22\n', want: undefined },
    { name: 'no section at all', text: undefined, want: undefined },
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
