// The Enterprise Linux path of the phases against a scripted fake host (no RHEL userland here): the exact dnf,
// SELinux and repository steps, with outputs recorded from the sources listed in fixtures/README.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { containerRuntimePhase } from '../../src/phases/container-runtime.ts';
import { localRepoPhase } from '../../src/phases/local-repo.ts';
import { osPreparePhase } from '../../src/phases/os-prepare.ts';
import { FakeHost } from '../support/fake-host.ts';
import { fixture } from './fixtures.ts';
import { phaseContext } from './phase-context.ts';

// What the EL family lists installed packages with (src/phases/os/el.ts): a shell script around `rpm -qa`.
const RPM_LIST = /^sh -c 'rpm -qa /;

/** Real `containerd config dump` outputs (fixtures/containerd/README.md). */
const effectiveDump = (name: string) => readFileSync(new URL(`./fixtures/containerd/${name}.toml`, import.meta.url), 'utf8');
/** container-runtime's readback after the restart: versions as Docker's containerd.io 1.7.28 prints them, then the dump. */
const readback = (dump: string) => [
  { command: 'containerd --version', readOnly: false, stdout: 'containerd containerd.io 1.7.28 b98a3aace656320842a23f4a392a33f46af97866\n' },
  { command: 'runc --version', readOnly: false, stdout: 'runc version 1.3.0\ncommit: v1.3.0-0-g4ca628d1\n' },
  { command: 'containerd config dump', readOnly: false, stdout: dump },
];

const noFile = (paths: RegExp) => ({ command: paths, exitCode: 1, stderr: 'sha256sum: /etc/x: No such file or directory', readOnly: true });
const target = (ctx: ReturnType<typeof phaseContext>, host: FakeHost) => ({ spec: ctx.inventory.hosts.find((h) => h.name === host.name)!, host });

describe('EL: local-repo', () => {
  it('writes a dnf repo on the bundle with module_hotfixes and gpgcheck from the bundled key', async () => {
    const ctx = phaseContext('el');
    const host = new FakeHost('cp-1', [
      noFile(/^sha256sum -- \/etc\/yum\.repos\.d\/ferry\.repo$/),
      { command: 'install -D -m 644 /var/lib/ferry/staging/ferry.repo /etc/yum.repos.d/ferry.repo && rm -f /var/lib/ferry/staging/ferry.repo', readOnly: false },
    ]);
    expect(await localRepoPhase.isDone(target(ctx, host), ctx, {})).toBe(false);
    await localRepoPhase.run(target(ctx, host), ctx, {});
    expect(host.written.get('/var/lib/ferry/staging/ferry.repo')?.data).toBe(
      "# Written by ferry: the bundle's packages, offline.\n[ferry]\nname=ferry bundle (offline)\n" +
        'baseurl=file:///var/lib/ferry/bundle/packages/rocky-8.6/x86_64\nenabled=1\ngpgcheck=1\n' +
        'gpgkey=file:///var/lib/ferry/bundle/packages/rocky-8.6/x86_64/RPM-GPG-KEY-Rocky-8\nrepo_gpgcheck=0\nmodule_hotfixes=1\nskip_if_unavailable=0\n',
    );
    expect(host.unmet()).toEqual([]);
  });
});

describe('EL: os-prepare', () => {
  const snapshot = (swaps: string, selinux: string, forward: string) =>
    `==ferry:swaps==\n${swaps}==ferry:fstab==\nUUID=9c1 / xfs defaults 0 0\n/dev/mapper/rl-swap none swap defaults 0 0\n` +
    '==ferry:modules==\noverlay present\nbr_netfilter present\nipip present\n==ferry:sysctl==\n' +
    `net.bridge.bridge-nf-call-iptables\t1\trw\nnet.bridge.bridge-nf-call-ip6tables\t1\trw\nnet.ipv4.ip_forward\t${forward}\trw\n` +
    'fs.inotify.max_user_instances\t8192\trw\nfs.inotify.max_user_watches\t524288\trw\nkernel.keys.root_maxkeys\t1000000\trw\nkernel.keys.root_maxbytes\t25000000\trw\n' +
    `==ferry:selinux==\n${selinux}\n==ferry:selinux-config==\n${fixture('el8-selinux-config')}==ferry:nft==\nabsent\n==ferry:unit==\ndisabled\n`;

  it('turns swap off, SELinux permissive (now and in its config), sets sysctls and loads the firewall table', async () => {
    const ctx = phaseContext('el');
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:swaps==/, stdout: snapshot(fixture('proc-swaps-one.txt'), 'Enforcing', '0'), readOnly: true, times: 2 },
      { command: /^sha256sum -- /, exitCode: 1, readOnly: true, times: 2 },
      { command: /^echo ==ferry:swaps==/, stdout: snapshot(fixture('proc-swaps-none.txt'), 'Permissive', '0'), readOnly: true },
      { command: /^(nft -c -f \S+ && |systemd-analyze verify \S+ && )?install -D -m 644 \/var\/lib\/ferry\/staging\/\S+ \/etc\/\S+ && rm -f /, readOnly: false, times: 6 },
      { command: 'swapoff --all', readOnly: false },
      { command: 'setenforce 0', readOnly: false },
      { command: 'sysctl -q -w net.ipv4.ip_forward=1', readOnly: false },
      { command: 'systemctl daemon-reload' },
      { command: 'systemctl enable ferry-firewall.service' },
      { command: 'systemctl restart ferry-firewall.service' },
    ]);
    expect(await osPreparePhase.isDone(target(ctx, host), ctx, {})).toBe(false);
    await osPreparePhase.run(target(ctx, host), ctx, {});
    expect(host.written.get('/var/lib/ferry/staging/config')?.data).toMatch(/^SELINUX=permissive$/m);
    expect(host.written.get('/var/lib/ferry/staging/fstab')?.data).toContain('# ferry: swap off for kubelet: /dev/mapper/rl-swap none swap defaults 0 0');
    expect([...host.written.keys()].sort()).toEqual(
      ['90-ferry-kubernetes.conf', 'config', 'ferry-firewall.service', 'ferry-kubernetes.conf', 'ferry.nft', 'fstab'].map((f) => `/var/lib/ferry/staging/${f}`),
    );
    expect(host.unmet()).toEqual([]);
  });

  it('stops with the module named when modprobe fails and the module is not built in either', async () => {
    const ctx = phaseContext('el');
    const missing = snapshot(fixture('proc-swaps-none.txt'), 'Permissive', '1').replace('br_netfilter present', 'br_netfilter absent');
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:swaps==/, stdout: missing, readOnly: true },
      { command: /^sha256sum -- /, exitCode: 1, readOnly: true },
      { command: /install -D -m/, times: Infinity },
      { command: 'modprobe br_netfilter', exitCode: 1, stderr: 'modprobe: FATAL: Module br_netfilter not found in directory /lib/modules/4.18.0-372.19.1.el8_6.x86_64\n' },
    ]);
    await expect(osPreparePhase.run(target(ctx, host), ctx, {})).rejects.toThrow(/gpu-1: cannot load kernel module br_netfilter: it is neither loaded nor built into the kernel, and modprobe said: modprobe: FATAL: Module br_netfilter not found/);
  });
});

describe('EL: container-runtime', () => {
  it('installs containerd.io with dnf from ferry\'s repo only, records what it added, configures and checks it', async () => {
    const ctx = phaseContext('el');
    const before = fixture('el-rpm-qa.txt').replace('ii containerd.io\n', '');
    const after = `${before}ii containerd.io\nii container-selinux\n`;
    const host = new FakeHost('cp-1', [
      { command: RPM_LIST, stdout: before, readOnly: true, times: 2 },
      { command: 'systemctl is-active containerd', stdout: 'inactive\n', exitCode: 3, readOnly: true },
      { command: RPM_LIST, stdout: after, readOnly: true },
      { command: "dnf -y -q '--disablerepo=*' --enablerepo=ferry makecache", readOnly: false },
      { command: "dnf -y -q '--disablerepo=*' --enablerepo=ferry install containerd.io", readOnly: false },
      { command: 'cat /var/lib/ferry/packages/container-runtime.list', exitCode: 1, readOnly: true },
      { command: 'sha256sum -- /etc/containerd/config.toml', exitCode: 1, readOnly: true },
      { command: 'containerd --config /var/lib/ferry/staging/config.toml config dump && install -D -m 644 /var/lib/ferry/staging/config.toml /etc/containerd/config.toml && rm -f /var/lib/ferry/staging/config.toml' },
      { command: 'systemctl enable containerd' },
      { command: 'systemctl restart containerd' },
      { command: 'ctr version', readOnly: false },
      ...readback(effectiveDump('dump-1.6.20-ferry')),
    ]);
    await containerRuntimePhase.run(target(ctx, host), ctx, {});
    expect(host.written.get('/var/lib/ferry/packages/container-runtime.list')?.data).toBe('container-selinux\ncontainerd.io\n');
    const config = host.written.get('/var/lib/ferry/staging/config.toml')?.data ?? '';
    expect(config).toContain('SystemdCgroup = true');
    expect(config).toContain('sandbox_image = "registry.ferry.internal:5000/registry.k8s.io/pause:3.10"');
    // hosts.toml is registry-mirrors' alone: container-runtime writes config.toml and nothing under certs.d.
    expect([...host.written.keys()].filter((p) => p.includes('hosts.toml'))).toEqual([]);
    expect(host.unmet()).toEqual([]);
  });

  it('fails naming the node when containerd runs with other settings than ferry wrote (a 1.6 reading a 2.x file)', async () => {
    const ctx = phaseContext('el');
    const before = fixture('el-rpm-qa.txt');
    const host = new FakeHost('cp-1', [
      { command: RPM_LIST, stdout: before, readOnly: true, times: 2 },
      { command: 'systemctl is-active containerd', stdout: 'active\n', readOnly: true },
      { command: 'sha256sum -- /etc/containerd/config.toml', exitCode: 1, readOnly: true },
      { command: 'containerd --config /var/lib/ferry/staging/config.toml config dump && install -D -m 644 /var/lib/ferry/staging/config.toml /etc/containerd/config.toml && rm -f /var/lib/ferry/staging/config.toml' },
      { command: 'systemctl enable containerd' },
      { command: 'systemctl restart containerd' },
      { command: 'ctr version', readOnly: false },
      { command: 'containerd --version', readOnly: false, stdout: 'containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n' },
      { command: 'runc --version', readOnly: false, stdout: 'runc version 1.3.0\n' },
      { command: 'containerd config dump', readOnly: false, stdout: effectiveDump('dump-1.6.20-reads-2x') },
    ]);
    const error = await containerRuntimePhase.run(target(ctx, host), ctx, {}).catch((e: unknown) => e);
    expect(String(error)).toContain('cp-1: containerd does not run as the lock says:');
    expect(String(error)).toContain('containerd 1.6.20 is installed, the lock says 1.7.28');
    expect(String(error)).toContain('the sandbox image is "registry.k8s.io/pause:3.6"');
    expect(String(error)).toContain('runtime runc runs with SystemdCgroup = false');
  });
});
