import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitSections } from '../../src/facts/sections.ts';
import { parseNvidiaVersion } from '../../src/facts/parse-gpu.ts';
import { parseContainerdConfig, parseContainerdVersion } from '../../src/facts/parse-runtime.ts';
import { parseIptablesVersion, parseListeners } from '../../src/facts/parse-network.ts';
import { kernelCompiler, osFamily, secureBootState } from '../../src/facts/parse-system.ts';
import { parseOsRelease } from '../../src/matrix/os-release.ts';
import { parseFacts } from '../../src/facts/parse.ts';
import { fixtureFacts, fixtureText } from './fixtures.ts';

describe('splitSections', () => {
  it('keeps each section’s lines and exit code, and drops the blank line before the end marker', () => {
    const s = splitSections('\n@@ferry a\none\ntwo\n\n@@ferry-rc a 0\n\n@@ferry b\n\n@@ferry-rc b 127\n');
    expect(s.get('a')).toEqual({ lines: ['one', 'two'], rc: 0 });
    expect(s.get('b')).toEqual({ lines: [], rc: 127 });
  });
  it('leaves a section that never finished without an exit code', () => {
    expect(splitSections('@@ferry a\nhalf').get('a')).toEqual({ lines: ['half'], rc: undefined });
  });
});

describe('parseFacts on the real Debian 12 admin host', () => {
  const f = fixtureFacts('debian12-admin-host');
  it('reads OS, kernel and the kernel without module support', () => {
    expect(f.os).toMatchObject({ id: 'debian', versionId: '12', family: 'debian' });
    expect(f.kernel.release).toBe('6.18.44-fc-v782');
    expect(f.kernel.compiler).toBe('gcc (GCC) 15.3.0');
    expect(f.modules).toBeUndefined();
    expect(f.kernel.modulesDir).toBe(false);
  });
  it('reads cgroup v1 (hybrid tmpfs) with its enabled controllers', () => {
    expect(f.cgroup.version).toBe('v1');
    expect(f.cgroup.controllers).toEqual(expect.arrayContaining(['cpu', 'cpuset', 'memory', 'pids']));
  });
  it('reads iptables-nft 1.8.9 with no rules in either backend', () => {
    expect(f.iptables).toMatchObject({ version: '1.8.9', mode: 'nf_tables', legacyRules: 0, nftRules: 0 });
  });
  it('reads Debian containerd 1.6.20 and the runc runtime’s SystemdCgroup = false from `containerd config dump`', () => {
    expect(f.containerd?.version).toBe('1.6.20');
    expect(f.containerd?.configVersion).toBe(2);
    expect(f.containerd?.runtimes).toEqual([{ name: 'runc', systemdCgroup: false, table: 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options' }]);
  });
  it('reads links, listeners, sysctls and disks', () => {
    expect(f.links.find((l) => l.name === 'eth0')?.mtu).toBe(1400);
    expect(f.defaultRouteIface).toBe('eth0');
    expect(f.listeners).toContainEqual({ address: '0.0.0.0', port: 2024 });
    expect(f.sysctl['net.ipv4.ip_forward']).toBe('0');
    expect(f.disks.find((d) => d.path === '/var/lib/containerd')?.mount).toBe('/');
    expect(f.python).toMatch(/python3$/);
  });
  it('reads the Debian kernel headers package as not installed', () => {
    expect(f.kernelHeaders).toEqual({ manager: 'dpkg', package: 'linux-headers-6.18.44-fc-v782', installed: false });
  });
});

describe('parseFacts on the reconstructed Rocky 8 H100 node', () => {
  const f = fixtureFacts('rocky8-gpu-reconstructed', 'gpu-1');
  it('recognizes Enterprise Linux and the RHEL kernel compiler', () => {
    expect(f.os.family).toBe('el');
    expect(f.kernel.compiler).toBe('gcc version 8.5.0 20210514 (Red Hat 8.5.0-10) (GCC)');
  });
  it('reads both containerd runtimes with their own SystemdCgroup', () => {
    expect(f.containerd?.runtimes.map((r) => [r.name, r.systemdCgroup])).toEqual([['nvidia', true], ['runc', false]]);
  });
  it('reads rpm’s kernel-devel answer, SELinux, Secure Boot, GPUs, swap and the proxy', () => {
    expect(f.kernelHeaders).toMatchObject({ manager: 'rpm', installed: false });
    expect(f.selinux).toBe('Enforcing');
    expect(f.elPackages).toEqual({ 'container-selinux': true, fapolicyd: false });
    expect(f.secureBoot).toBe('enabled');
    expect(f.gpu.devices).toHaveLength(2);
    expect(f.modules).toContain('nouveau');
    expect(f.swap.devices).toEqual([{ name: '/dev/dm-1', sizeKb: 4194300 }]);
    expect(f.proxy.no_proxy).toBe('localhost,127.0.0.1,.example.internal');
    expect(f.python).toBe('/usr/libexec/platform-python');
    expect(f.time.ntpSynchronized).toBe(true);
  });
});

describe('small parsers', () => {
  it.each([
    ['iptables v1.8.9 (nf_tables)', { version: '1.8.9', mode: 'nf_tables' }],
    ['iptables v1.8.4 (legacy)', { version: '1.8.4', mode: 'legacy' }],
    ['iptables v1.4.21', { version: '1.4.21', mode: 'legacy' }],
    ['', { version: undefined, mode: undefined }],
  ])('iptables -V %j', (line, want) => expect(parseIptablesVersion(line)).toEqual(want));

  it.each([
    ['containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3', '1.6.20'],
    ['containerd github.com/containerd/containerd/v2 v2.1.4 75cb2b7193e4e490e9fbdc236c0e811ccaba3376', '2.1.4'],
  ])('containerd --version %j', (line, want) => expect(parseContainerdVersion(line)).toBe(want));

  it('reads /proc/driver/nvidia/version for open and proprietary modules', () => {
    const lines = readFileSync(new URL('../fixtures/facts/nvidia-version.txt', import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('NVRM'));
    expect(lines.map((l) => parseNvidiaVersion([l]))).toEqual(['580.95.05', '550.135']);
  });

  it('reads containerd 2.x config version 3 (runtimes under io.containerd.cri.v1.runtime)', () => {
    // Shape of containerd 2.x `config dump` (containerd docs/cri/config.md, config version 3).
    const toml = `version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]\n  runtime_type = 'io.containerd.runc.v2'\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n`;
    expect(parseContainerdConfig(toml, '2.1.4').runtimes).toEqual([{ name: 'runc', systemdCgroup: true, table: 'plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options' }]);
  });

  it('reports TOML it cannot parse instead of guessing', () => {
    expect(parseContainerdConfig('version = = 2', undefined).parseError).toBeTruthy();
  });

  it.each([
    [{ ID: 'ubuntu', ID_LIKE: 'debian' }, 'debian'],
    [{ ID: 'almalinux', ID_LIKE: 'rhel centos fedora' }, 'el'],
    [{ ID: 'rhel', ID_LIKE: 'fedora' }, 'el'],
    // Oracle Linux 8/9 ship ID="ol", ID_LIKE="fedora": EL by package manager (the matrix refuses it for its UEK kernel).
    [{ ID: 'ol', ID_LIKE: 'fedora' }, 'el'],
    [{ ID: 'centos', ID_LIKE: 'rhel fedora' }, 'el'],
    [{ ID: 'debian' }, 'debian'],
    [{ ID: 'linuxmint', ID_LIKE: 'ubuntu debian' }, 'debian'],
    [{ ID: 'arch' }, 'other'],
    [{}, 'other'],
  ])('os family of %j', (release, want) => expect(osFamily(release)).toBe(want));

  it('unquotes os-release values (one parser for doctor, install and resolve)', () => {
    expect(parseOsRelease('PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\nID=\'rocky\'\nNAME="A \\"quoted\\" name"\n')).toEqual({ PRETTY_NAME: 'Rocky Linux 9.4 (Blue Onyx)', ID: 'rocky', NAME: 'A "quoted" name' });
  });

  it('reads ss -Htln local addresses of every form', () => {
    expect(parseListeners(['LISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:*', 'LISTEN 0 128 [::]:22 [::]:*', 'LISTEN 0 128 *:6443 *:*'])).toEqual([
      { address: '127.0.0.53', port: 53 },
      { address: '::', port: 22 },
      { address: '*', port: 6443 },
    ]);
  });

  it.each([
    [['SecureBoot enabled'], 'enabled'],
    [['SecureBoot disabled'], 'disabled'],
    [['EFI variables are not supported on this system'], 'unsupported'],
    [['efivar    6   0   0   0   1'], 'enabled'],
    [[], 'unknown'],
  ] as const)('secure boot from %j', (lines, want) => expect(secureBootState(lines)).toBe(want));

  it('finds the compiler in a Debian /proc/version', () => {
    expect(kernelCompiler(fixtureText('debian12-admin-host').split('\n').find((l) => l.startsWith('Linux version')))).toBe('gcc (GCC) 15.3.0');
  });
});

describe('parseFacts on a real lab node (systemd-nspawn Debian 12)', () => {
  const f = fixtureFacts('debian12-lab-node', 'node1');
  it('reads systemd’s answers: every unit inactive, NTP not synchronized', () => {
    expect(f.services.containerd).toBe('inactive');
    expect(f.services.firewalld).toBe('inactive');
    expect(f.time).toEqual({ ntpSynchronized: false, ntpService: false });
  });
  it('finds the cluster interface without a default route (the lab has no route out)', () => {
    expect(f.defaultRouteIface).toBeUndefined();
    expect(f.addresses.find((a) => a.iface === 'host0')?.address).toBe('10.218.59.11');
    expect(f.links.find((l) => l.name === 'host0')?.mtu).toBe(1500);
  });
  it('sees /var/lib/containerd on its own bind mount and sshd on port 22', () => {
    expect(f.disks.find((d) => d.path === '/var/lib/containerd')?.mount).toBe('/var/lib/containerd');
    expect(f.listeners.map((l) => l.port)).toEqual([22, 22]);
    expect(f.identity.productUuid).toBeUndefined();
  });
});

describe('EL9 pieces (AlmaLinux 9.2, documented) and the reboot section', () => {
  const piece = (name: string) => readFileSync(new URL(`../fixtures/facts/el9-pieces/${name}`, import.meta.url), 'utf8');
  const section = (name: string, body: string, rc = 0) => `\n@@ferry ${name}\n${body}\n\n@@ferry-rc ${name} ${rc}\n`;
  it('reads AlmaLinux 9.2 as Enterprise Linux and its 5.14 kernel from `uname -srm`', () => {
    const fields = piece('uname-a').trim().split(/\s+/);
    const [kernel, arch] = [fields[2], fields.at(-2)];
    const f = parseFacts('alma', section('os-release', piece('os-release')) + section('uname', `Linux ${kernel} ${arch}`));
    expect(f.os).toEqual({ id: 'almalinux', idLike: ['rhel', 'centos', 'fedora'], versionId: '9.2', family: 'el', prettyName: 'AlmaLinux 9.2 (Turquoise Kodkod)' });
    expect(f.kernel).toMatchObject({ release: '5.14.0-284.11.1.el9_2.x86_64', arch: 'x86_64' });
  });
  it.each([
    ['needs-restarting 1', true, '`needs-restarting -r` says a reboot is needed'],
    ['needs-restarting 0', false, undefined],
    ['reboot-required-file', true, '/var/run/reboot-required exists'],
  ])('reboot section %j', (body, required, reason) => {
    expect(parseFacts('x', section('reboot', body)).reboot).toEqual({ required, reason });
  });
});
