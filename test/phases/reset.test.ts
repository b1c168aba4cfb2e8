// Reset phases: observe reads what is left (through a read-only host), plan is the removal, from tables of
// observations: units first, the recorded packages still installed (exactly those), the phase's files, its empty
// directories, then what each phase needs after (trust store, daemon-reload, fstab); nothing left, no steps.
import { describe, expect, it } from 'vitest';
import { ReadOnlyHost } from '../../src/hosts/read-only.ts';
import { debianFamily } from '../../src/phases/os/debian.ts';
import { elFamily } from '../../src/phases/os/el.ts';
import { resetGpuAddonsPhase, resetGpuDriverPhase } from '../../src/phases/reset-gpu.ts';
import { kubeResetPhases } from '../../src/phases/reset-kubeadm.ts';
import { resetPhases, type ResetSeen } from '../../src/phases/reset.ts';
import { describeStep } from '../../src/phases/step.ts';
import { FakeHost } from '../support/fake-host.ts';
import { fixture } from './fixtures.ts';
import { phaseContext } from './phase-context.ts';

const all = [...resetPhases, ...kubeResetPhases, resetGpuDriverPhase, resetGpuAddonsPhase];
const phase = (id: string) => all.find((p) => p.id === id)!;
const APT = 'apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0';
const SWAP = '/dev/sda2 none swap sw 0 0';

const seen = (over: Partial<ResetSeen>): ResetSeen => ({ left: ['something'], family: debianFamily, recorded: false, packages: [], files: {}, ...over });
const planOf = (id: string, s: ResetSeen) => {
  const ctx = phaseContext('debian', { hosts: ['cp-1'] });
  return phase(id).plan(s, { spec: ctx.inventory.hosts[0]!, ctx, params: {} }).map(describeStep);
};
const rmdir = (dir: string) => `if test -d ${dir}; then rmdir --ignore-fail-on-non-empty -- ${dir}; fi`;

describe('reset plans', () => {
  it.each(all.map((p) => [p.id]))('%s: nothing left, nothing to do', (id) => {
    expect(planOf(id, seen({ left: [] }))).toEqual([]);
  });

  it.each<{ name: string; id: string; seen: Partial<ResetSeen>; want: string[] }>([
    {
      name: 'reset-container-runtime on Debian: the unit, exactly the recorded packages still installed, the config, empty dirs',
      id: 'reset-container-runtime', seen: { recorded: true, packages: ['containerd', 'runc'] },
      want: [
        'systemctl disable --now containerd 2>/dev/null || true', `${APT} purge containerd runc`, 'rm -f /var/lib/ferry/packages/container-runtime.list',
        'rm -rf -- /etc/containerd/config.toml', rmdir('/etc/containerd'), rmdir('/etc/cni/net.d'), rmdir('/etc/cni'),
      ],
    },
    {
      name: 'reset-container-runtime on EL, the recorded packages already gone: only the record goes',
      id: 'reset-container-runtime', seen: { family: elFamily, recorded: true, packages: [] },
      want: ['systemctl disable --now containerd 2>/dev/null || true', 'rm -f /var/lib/ferry/packages/container-runtime.list', 'rm -rf -- /etc/containerd/config.toml', rmdir('/etc/containerd'), rmdir('/etc/cni/net.d'), rmdir('/etc/cni')],
    },
    {
      name: 'reset-registry-mirrors on EL (no curl was installed, nothing recorded): files, dirs, the trust store rebuilt',
      id: 'reset-registry-mirrors', seen: { family: elFamily, files: { '/etc/os-release': fixture('rocky86-os-release') } },
      want: [
        'rm -rf -- /etc/containerd/certs.d /etc/ferry/registry/ca.crt /etc/pki/ca-trust/source/anchors/ferry-registry-ca.crt /usr/local/share/ca-certificates/ferry-registry-ca.crt',
        rmdir('/etc/ferry/registry'), rmdir('/etc/ferry'), 'update-ca-trust extract',
      ],
    },
    {
      // Without --fresh, update-ca-certificates keeps the links of the removed anchor in /etc/ssl/certs.
      name: 'reset-registry-mirrors on a minimal Debian node: the curl it installed goes, the trust store is rebuilt fresh',
      id: 'reset-registry-mirrors', seen: { recorded: true, packages: ['curl', 'libcurl4'], files: { '/etc/os-release': fixture('debian12-os-release') } },
      want: [
        `${APT} purge curl libcurl4`, 'rm -f /var/lib/ferry/packages/registry-mirrors.list',
        'rm -rf -- /etc/containerd/certs.d /etc/ferry/registry/ca.crt /etc/pki/ca-trust/source/anchors/ferry-registry-ca.crt /usr/local/share/ca-certificates/ferry-registry-ca.crt',
        rmdir('/etc/ferry/registry'), rmdir('/etc/ferry'), 'update-ca-certificates --fresh',
      ],
    },
    {
      name: 'reset-registry: the unit, binary, config, TLS files and data, then daemon-reload',
      id: 'reset-registry', seen: {},
      want: [
        'systemctl disable --now ferry-registry.service 2>/dev/null || true',
        'rm -rf -- /etc/systemd/system/ferry-registry.service /usr/local/bin/ferry-registry /etc/ferry/registry /var/lib/ferry/registry',
        rmdir('/etc/ferry'), 'systemctl daemon-reload',
      ],
    },
    {
      name: 'reset-load-balancer: both units, the packages, the files and the drop-in dir',
      id: 'reset-load-balancer', seen: { recorded: true, packages: ['haproxy', 'keepalived'] },
      want: [
        'systemctl disable --now keepalived 2>/dev/null || true', 'systemctl disable --now haproxy 2>/dev/null || true',
        `${APT} purge haproxy keepalived`, 'rm -f /var/lib/ferry/packages/load-balancer.list',
        'rm -rf -- /etc/haproxy/haproxy.cfg /etc/keepalived/keepalived.conf /etc/keepalived/check-apiserver.sh /etc/systemd/system/haproxy.service.d/10-ferry.conf',
        rmdir('/etc/systemd/system/haproxy.service.d'), rmdir('/etc/keepalived'), rmdir('/etc/haproxy'), 'systemctl daemon-reload',
      ],
    },
    {
      name: 'reset-os-prepare with a swap line ferry turned off: fstab written back as it was',
      id: 'reset-os-prepare', seen: { left: ['fstab'], files: { '/etc/fstab': `UUID=1 / ext4 defaults 0 1\n# ferry: swap off for kubelet: ${SWAP}\n` } },
      want: [
        'systemctl disable --now ferry-firewall.service 2>/dev/null || true',
        'rm -rf -- /etc/systemd/system/ferry-firewall.service /etc/nftables.d/ferry.nft /etc/modules-load.d/ferry-kubernetes.conf /etc/sysctl.d/90-ferry-kubernetes.conf',
        rmdir('/etc/nftables.d'), 'systemctl daemon-reload', 'nft delete table inet ferry 2>/dev/null || true', 'write /etc/fstab',
      ],
    },
    {
      name: 'reset-os-prepare without swap: fstab left alone',
      id: 'reset-os-prepare', seen: { left: ['table'], files: { '/etc/fstab': 'UUID=1 / ext4 defaults 0 1\n' } },
      want: [
        'systemctl disable --now ferry-firewall.service 2>/dev/null || true',
        'rm -rf -- /etc/systemd/system/ferry-firewall.service /etc/nftables.d/ferry.nft /etc/modules-load.d/ferry-kubernetes.conf /etc/sysctl.d/90-ferry-kubernetes.conf',
        rmdir('/etc/nftables.d'), 'systemctl daemon-reload', 'nft delete table inet ferry 2>/dev/null || true',
      ],
    },
    {
      name: "reset-local-repo: the repository files and apt's lists of the bundle's repository",
      id: 'reset-local-repo', seen: {},
      want: ['rm -rf -- /etc/apt/sources.list.d/ferry.list /etc/yum.repos.d/ferry.repo', 'rm -f /var/lib/apt/lists/_var_lib_ferry_*'],
    },
    { name: "reset-copy-bundle: the bundle's copy and ferry's state", id: 'reset-copy-bundle', seen: {}, want: ['rm -rf -- /var/lib/ferry/bundle /var/lib/ferry'] },
    {
      name: 'reset-kubernetes-packages on Debian: kubelet stopped, the packages unheld before they are purged',
      id: 'reset-kubernetes-packages', seen: { recorded: true, packages: ['kubeadm', 'kubectl', 'kubelet'] },
      want: [
        'systemctl disable --now kubelet 2>/dev/null || true', 'apt-mark unhold kubeadm kubelet kubectl >/dev/null 2>&1 || true',
        `${APT} purge kubeadm kubectl kubelet`, 'rm -f /var/lib/ferry/packages/kubernetes-packages.list',
        rmdir('/etc/kubernetes/manifests'), rmdir('/etc/kubernetes'), rmdir('/var/lib/kubelet'),
      ],
    },
    {
      name: 'reset-kubernetes-packages on EL: no hold to undo',
      id: 'reset-kubernetes-packages', seen: { family: elFamily, recorded: true, packages: ['kubeadm', 'kubectl', 'kubelet'] },
      want: [
        'systemctl disable --now kubelet 2>/dev/null || true', elFamily.remove(['kubeadm', 'kubectl', 'kubelet']).argv.join(' '), 'rm -f /var/lib/ferry/packages/kubernetes-packages.list',
        rmdir('/etc/kubernetes/manifests'), rmdir('/etc/kubernetes'), rmdir('/var/lib/kubelet'),
      ],
    },
    {
      name: 'reset-gpu-driver: persistenced stopped, the driver packages, the blacklist, the initramfs rebuilt',
      id: 'reset-gpu-driver', seen: { recorded: true, packages: ['nvidia-utils-580-server'] },
      want: [
        'systemctl disable --now nvidia-persistenced 2>/dev/null || true', `${APT} purge nvidia-utils-580-server`, 'rm -f /var/lib/ferry/packages/gpu-driver.list',
        'rm -rf -- /etc/modprobe.d/ferry-blacklist-nouveau.conf',
        'if command -v update-initramfs >/dev/null; then update-initramfs -u; elif command -v dracut >/dev/null; then dracut --force; fi',
      ],
    },
  ])('$name', ({ id, seen: over, want }) => {
    expect(planOf(id, seen(over))).toEqual(want);
  });

  it('reset-os-prepare writes fstab back exactly as it was before install', () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1'] });
    const before = `UUID=1 / ext4 defaults 0 1\n${SWAP}\n`;
    const steps = phase('reset-os-prepare').plan(seen({ files: { '/etc/fstab': `UUID=1 / ext4 defaults 0 1\n# ferry: swap off for kubelet: ${SWAP}\n` } }), { spec: ctx.inventory.hosts[0]!, ctx, params: {} });
    expect(steps.at(-1)).toEqual({ kind: 'write', path: '/etc/fstab', content: before, mode: 0o644 });
  });
});

describe('reset observe', () => {
  const target = (host: FakeHost) => {
    const ctx = phaseContext('debian', { hosts: ['cp-1'] });
    return { ctx, t: { spec: ctx.inventory.hosts[0]!, host: new ReadOnlyHost(host), admin: new ReadOnlyHost(ctx.admin) } };
  };

  it('sees nothing left on a clean node and reads no more', async () => {
    const host = new FakeHost('cp-1', [{ command: /^if test -e \/etc\/apt\/sources\.list\.d\/ferry\.list/, stdout: '', readOnly: true }]);
    const { ctx, t } = target(host);
    const s = await phase('reset-local-repo').observe(t, ctx, {});
    expect(s.left).toEqual([]);
    expect(host.unmet()).toEqual([]);
  });

  it('sees what is left and the recorded packages still installed, reading only', async () => {
    const host = new FakeHost('cp-1', [
      { command: /^if test -e \/etc\/containerd\/config\.toml/, stdout: '/etc/containerd/config.toml\n/var/lib/ferry/packages/container-runtime.list\n', readOnly: true },
      { command: 'cat /var/lib/ferry/packages/container-runtime.list', stdout: 'containerd\nlibfoo-gone\nrunc\n', readOnly: true },
      { command: "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'", stdout: `${fixture('debian12-lab-dpkg-query.txt')}ii  containerd\nii  runc\n`, readOnly: true },
    ]);
    const { ctx, t } = target(host);
    const s = await phase('reset-container-runtime').observe(t, ctx, {});
    expect(s).toMatchObject({ left: ['/etc/containerd/config.toml', '/var/lib/ferry/packages/container-runtime.list'], recorded: true, packages: ['containerd', 'runc'] });
    expect(host.mutating()).toEqual([]);
    expect(host.unmet()).toEqual([]);
  });

  it('counts held packages as installed: kubeadm, kubelet and kubectl are held until its plan unholds them', async () => {
    const host = new FakeHost('cp-1', [
      { command: /^if test -e \/var\/lib\/ferry\/packages\/kubernetes-packages\.list/, stdout: '/var/lib/ferry/packages/kubernetes-packages.list\n', readOnly: true },
      { command: 'cat /var/lib/ferry/packages/kubernetes-packages.list', stdout: 'conntrack\nkubeadm\nkubectl\nkubelet\n', readOnly: true },
      { command: "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'", stdout: `${fixture('debian12-lab-dpkg-query.txt')}ii  conntrack\nhi  kubeadm\nhi  kubectl\nhi  kubelet\n`, readOnly: true },
    ]);
    const { ctx, t } = target(host);
    const s = await phase('reset-kubernetes-packages').observe(t, ctx, {});
    expect(s).toMatchObject({ recorded: true, packages: ['conntrack', 'kubeadm', 'kubectl', 'kubelet'] });
    expect(host.unmet()).toEqual([]);
  });

  it('reads the files its plan needs (os-release for the trust store)', async () => {
    const host = new FakeHost('gpu-1', [
      { command: /^if test -e \/etc\/containerd\/certs\.d/, stdout: '/etc/containerd/certs.d\n', readOnly: true },
      { command: 'cat /var/lib/ferry/packages/registry-mirrors.list', exitCode: 1, readOnly: true },
    ], { '/etc/os-release': fixture('debian12-os-release') });
    const { ctx, t } = target(host);
    const s = await phase('reset-registry-mirrors').observe(t, ctx, {});
    expect(s).toMatchObject({ recorded: false, packages: [], files: { '/etc/os-release': fixture('debian12-os-release') } });
  });
});

describe('reset targets', () => {
  it('resets workers before control planes; the registry only on registry hosts', () => {
    const ctx = phaseContext('debian');
    expect(phase('reset-kubeadm').targets(ctx, {}).map((h) => h.name)).toEqual(['gpu-1', 'gpu-2', 'cp-1', 'cp-2', 'cp-3']);
    expect(phase('reset-registry').targets(ctx, {}).map((h) => h.name)).toEqual(['cp-1', 'cp-2', 'cp-3']);
  });
});
