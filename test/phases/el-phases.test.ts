// The Enterprise Linux path of the phases against a scripted fake host (no RHEL userland here): the exact dnf,
// SELinux and repository steps, with outputs recorded from the sources listed in fixtures/README.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ReadOnlyHost } from '../../src/hosts/read-only.ts';
import { containerRuntimePhase, runtimeFiles } from '../../src/phases/container-runtime.ts';
import { localRepoPhase, planLocalRepo } from '../../src/phases/local-repo.ts';
import { contentDigest } from '../../src/phases/place-files.ts';
import { runPhases } from '../../src/phases/runner.ts';
import { describeStep } from '../../src/phases/step.ts';
import { osPreparePhase } from '../../src/phases/os-prepare.ts';
import { FakeHost } from '../support/fake-host.ts';
import { lines, observeAndPlan } from './plan-support.ts';
import { fixture } from './fixtures.ts';
import { phaseContext } from './phase-context.ts';

// What the EL family lists installed packages with (src/phases/os/el.ts): a shell script around `rpm -qa`.
const RPM_LIST = /^sh -c 'rpm -qa /;

/** Real `containerd config dump` outputs (fixtures/containerd/README.md). */
const effectiveDump = (name: string) => readFileSync(new URL(`./fixtures/containerd/${name}.toml`, import.meta.url), 'utf8');
/** container-runtime's readback in the round after the restart: versions as Docker's containerd.io 1.7.28 prints them, then the dump. */
const readback = (dump: string) => [
  { command: 'ctr version', readOnly: true, stdout: 'Client:\n  Version:  1.7.28\n\nServer:\n  Version:  1.7.28\n' },
  { command: 'containerd --version', readOnly: true, stdout: 'containerd containerd.io 1.7.28 b98a3aace656320842a23f4a392a33f46af97866\n' },
  { command: 'runc --version', readOnly: true, stdout: 'runc version 1.3.0\ncommit: v1.3.0-0-g4ca628d1\n' },
  { command: 'containerd config dump', readOnly: true, stdout: dump },
];

const noFile = (paths: RegExp) => ({ command: paths, exitCode: 1, stderr: 'sha256sum: /etc/x: No such file or directory', readOnly: true });
const target = (ctx: ReturnType<typeof phaseContext>, host: FakeHost) => ({ spec: ctx.inventory.hosts.find((h) => h.name === host.name)!, host });
/** What a plan phase's observe gets: the node and the admin host, read-only. */
const observing = (ctx: ReturnType<typeof phaseContext>, host: FakeHost) => ({ spec: target(ctx, host).spec, host: new ReadOnlyHost(host), admin: new ReadOnlyHost(ctx.admin) });

describe('EL: local-repo', () => {
  it('sees the dnf repo missing and places it: on the bundle, with module_hotfixes and gpgcheck from the bundled key', async () => {
    const ctx = phaseContext('el');
    const host = new FakeHost('cp-1', [noFile(/^sha256sum -- \/etc\/yum\.repos\.d\/ferry\.repo$/)]);
    const seen = await localRepoPhase.observe(observing(ctx, host), ctx, {});
    expect(seen.changed.map((f) => f.content)).toEqual([
      "# Written by ferry: the bundle's packages, offline.\n[ferry]\nname=ferry bundle (offline)\n" +
        'baseurl=file:///var/lib/ferry/bundle/packages/rocky-8.6/x86_64\nenabled=1\ngpgcheck=1\n' +
        'gpgkey=file:///var/lib/ferry/bundle/packages/rocky-8.6/x86_64/RPM-GPG-KEY-Rocky-8\nrepo_gpgcheck=0\nmodule_hotfixes=1\nexclude=kubeadm kubelet kubectl\nskip_if_unavailable=0\n',
    ]);
    expect(planLocalRepo(seen).map(describeStep)).toEqual(['place /etc/yum.repos.d/ferry.repo']);
    expect(planLocalRepo({ changed: [] })).toEqual([]);
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

  it('plans swap off, SELinux permissive (now and in its config), sysctls and the firewall table from what it read', async () => {
    const ctx = phaseContext('el');
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:swaps==/, stdout: snapshot(fixture('proc-swaps-one.txt'), 'Enforcing', '0'), readOnly: true },
      { command: /^sha256sum -- /, exitCode: 1, readOnly: true },
    ]);
    const { steps } = await observeAndPlan(osPreparePhase, ctx, host);
    // Files without a checker first (nft -c and systemd-analyze check theirs), then the commands in order.
    expect(lines(steps)).toEqual([
      'place /etc/sysctl.d/90-ferry-kubernetes.conf', 'place /etc/modules-load.d/ferry-kubernetes.conf', 'place /etc/fstab', 'place /etc/selinux/config',
      'place /etc/nftables.d/ferry.nft', 'place /etc/systemd/system/ferry-firewall.service',
      'swapoff --all', 'setenforce 0',
      expect.stringMatching(/^warn: gpu-1: SELinux was enforcing and is set to permissive now \(setenforce 0\) and in \/etc\/selinux\/config/),
      'sysctl -q -w net.ipv4.ip_forward=1',
      'systemctl daemon-reload', 'systemctl enable ferry-firewall.service', 'systemctl restart ferry-firewall.service',
    ]);
    const placed = (path: string) => steps.flatMap((st) => (st.kind === 'place' && st.file.path === path ? [st.file.content] : []))[0];
    expect(placed('/etc/selinux/config')).toMatch(/^SELINUX=permissive$/m);
    expect(placed('/etc/fstab')).toContain('# ferry: swap off for kubelet: /dev/mapper/rl-swap none swap defaults 0 0');
    expect(host.unmet()).toEqual([]);
  });

  it('loads a module that is neither loaded nor built in, and sets the sysctls it creates after it', async () => {
    const ctx = phaseContext('el');
    const missing = snapshot(fixture('proc-swaps-none.txt'), 'Permissive', '1').replace('br_netfilter present', 'br_netfilter absent')
      .replace(/net\.bridge\.bridge-nf-call-ip(6?)tables\t1\trw/g, 'net.bridge.bridge-nf-call-ip$1tables\t<missing>\tro');
    const host = new FakeHost('gpu-1', [
      { command: /^echo ==ferry:swaps==/, stdout: missing, readOnly: true },
      { command: /^sha256sum -- /, exitCode: 1, readOnly: true },
    ]);
    const ordered = lines((await observeAndPlan(osPreparePhase, ctx, host)).steps).filter((l) => !/^(place|systemctl|warn:)/.test(l));
    expect(ordered).toEqual(['modprobe br_netfilter', 'sysctl -q -w net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1']);
  });
});

describe('EL: container-runtime', () => {
  it("installs containerd.io with dnf from ferry's repo only, records what it added, configures it, and reads it back", async () => {
    const ctx = phaseContext('el', { hosts: ['cp-1'] });
    const before = fixture('el-rpm-qa.txt').replace('ii containerd.io\n', '');
    const after = `${before}ii containerd.io\nii container-selinux\n`;
    const config = (await runtimeFiles({ spec: ctx.inventory.hosts[0]!, host: new FakeHost('cp-1') }, ctx))[0]!;
    const host = new FakeHost('cp-1', [
      { command: RPM_LIST, stdout: before, readOnly: true, times: 2 },
      { command: 'systemctl is-active containerd', stdout: 'inactive\n', exitCode: 3, readOnly: true },
      { command: 'systemctl is-enabled containerd', stdout: 'disabled\n', exitCode: 1, readOnly: true },
      { command: 'sha256sum -- /etc/containerd/config.toml', exitCode: 1, readOnly: true },
      { command: RPM_LIST, stdout: after, readOnly: true, times: 2 },
      { command: "dnf -y -q '--disablerepo=*' --enablerepo=ferry makecache", readOnly: false },
      { command: "dnf -y -q '--disablerepo=*' --enablerepo=ferry --disableexcludes=ferry install containerd.io", readOnly: false },
      { command: 'cat /var/lib/ferry/packages/container-runtime.list', exitCode: 1, readOnly: true },
      { command: 'containerd --config /var/lib/ferry/staging/config.toml config dump && install -D -m 644 /var/lib/ferry/staging/config.toml /etc/containerd/config.toml && rm -f /var/lib/ferry/staging/config.toml', readOnly: false },
      { command: 'systemctl enable containerd', readOnly: false },
      { command: 'systemctl restart containerd', readOnly: false },
      // The next round: running, enabled, the config in place, and the daemon's own account of itself.
      { command: 'systemctl is-active containerd', stdout: 'active\n', readOnly: true },
      { command: 'systemctl is-enabled containerd', stdout: 'enabled\n', readOnly: true },
      { command: 'sha256sum -- /etc/containerd/config.toml', stdout: `${contentDigest(config.content)}  /etc/containerd/config.toml\n`, readOnly: true },
      ...readback(effectiveDump('dump-1.6.20-ferry')),
    ]);
    const [report] = await runPhases([{ phase: containerRuntimePhase, params: {} }], ctx, { concurrency: 1, hostFor: () => host });
    expect(report!.hosts).toEqual({ 'cp-1': 'ran' });
    expect(host.written.get('/var/lib/ferry/packages/container-runtime.list')?.data).toBe('container-selinux\ncontainerd.io\n');
    const staged = host.written.get('/var/lib/ferry/staging/config.toml')?.data ?? '';
    expect(staged).toContain('SystemdCgroup = true');
    expect(staged).toContain('sandbox_image = "registry.ferry.internal:5000/registry.k8s.io/pause:3.10"');
    // hosts.toml is registry-mirrors' alone: container-runtime writes config.toml and nothing under certs.d.
    expect([...host.written.keys()].filter((p) => p.includes('hosts.toml'))).toEqual([]);
    expect(host.unmet()).toEqual([]);
  });
});
