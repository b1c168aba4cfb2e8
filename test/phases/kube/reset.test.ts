// The Kubernetes and registry reset phases against a fake host: kubeadm reset first (workers before control planes),
// then what kubeadm and Calico leave; the packages unheld before they are purged; the registry's files and trust.
import { describe, expect, it } from 'vitest';
import { kubeResetPhases } from '../../../src/phases/reset-kubeadm.ts';
import { resetPhases } from '../../../src/phases/reset.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { fixture } from '../fixtures.ts';
import { phaseContext } from '../phase-context.ts';

const phase = (id: string) => [...kubeResetPhases, ...resetPhases].find((p) => p.id === id)!;

describe('Kubernetes reset', () => {
  it('resets workers before control planes', () => {
    const ctx = phaseContext('debian');
    expect(phase('reset-kubeadm').targets(ctx, {}).map((h) => h.name)).toEqual(['gpu-1', 'gpu-2', 'cp-1', 'cp-2', 'cp-3']);
  });

  it('runs kubeadm reset -f, then removes what it leaves (CNI config, ferry files, static pod manifests)', async () => {
    const ctx = phaseContext('debian');
    const host = new FakeHost('gpu-1', [
      { command: /^if test -e \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml/, stdout: '/etc/cni/net.d/10-calico.conflist\n', readOnly: true },
      { command: 'if command -v kubeadm >/dev/null; then kubeadm reset -f; fi', readOnly: false },
      { command: /^rm -rf -- \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml \/etc\/kubernetes\/pki .* \/etc\/cni\/net\.d\/10-calico\.conflist .* \/etc\/ferry\/kubeadm\.yaml \/etc\/ferry\/cni\.yaml \/var\/lib\/ferry\/cni\.applied$/, readOnly: false },
      { command: 'if test -d /etc/kubernetes/manifests; then find /etc/kubernetes/manifests -mindepth 1 -delete; fi', readOnly: false },
    ]);
    const target = { spec: ctx.inventory.hosts.find((h) => h.name === 'gpu-1')!, host };
    expect(await phase('reset-kubeadm').isDone(target, ctx, {})).toBe(false);
    await phase('reset-kubeadm').run(target, ctx, {});
    expect(host.mutating()[0]).toBe('if command -v kubeadm >/dev/null; then kubeadm reset -f; fi');
    expect(host.unmet()).toEqual([]);
  });

  it('unholds the packages before purging exactly the recorded ones', async () => {
    const ctx = phaseContext('debian');
    const host = new FakeHost('cp-1', [
      { command: 'systemctl disable --now kubelet 2>/dev/null || true', readOnly: false },
      { command: "apt-mark unhold kubeadm kubelet kubectl >/dev/null 2>&1 || true", readOnly: false },
      { command: 'cat /var/lib/ferry/packages/kubernetes-packages.list', stdout: 'kubeadm\nkubectl\nkubelet\n', readOnly: true },
      { command: "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'", stdout: `${fixture('debian12-lab-dpkg-query.txt')}ii  kubeadm\nii  kubectl\nii  kubelet\n`, readOnly: true },
      { command: /^apt-get -q -y .* purge kubeadm kubectl kubelet$/, readOnly: false },
      { command: 'rm -f /var/lib/ferry/packages/kubernetes-packages.list', readOnly: false },
      { command: /^if test -d \/etc\/kubernetes\/manifests; then rmdir/, readOnly: false },
      { command: /^if test -d \/etc\/kubernetes; then rmdir/, readOnly: false },
      { command: /^if test -d \/var\/lib\/kubelet; then rmdir/, readOnly: false },
    ]);
    await phase('reset-kubernetes-packages').run({ spec: ctx.inventory.hosts[0]!, host }, ctx, {});
    expect(host.mutating().slice(0, 2)).toEqual(['systemctl disable --now kubelet 2>/dev/null || true', 'apt-mark unhold kubeadm kubelet kubectl >/dev/null 2>&1 || true']);
    expect(host.unmet()).toEqual([]);
  });

  it('removes the registry replica from registry hosts only, and rebuilds Debian\'s trust store without ferry\'s CA', async () => {
    const ctx = phaseContext('debian');
    expect(phase('reset-registry').targets(ctx, {}).map((h) => h.name)).toEqual(['cp-1', 'cp-2', 'cp-3']);
    const host = new FakeHost('gpu-1', [
      // A minimal Debian node got curl from registry-mirrors (for `ferry registry status`): it goes again.
      { command: 'cat /var/lib/ferry/packages/registry-mirrors.list', stdout: 'curl\nlibcurl4\n', readOnly: true },
      { command: "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'", stdout: 'ii  curl\nii  libcurl4\nii  libc6\n', readOnly: true },
      { command: 'apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 purge curl libcurl4' },
      { command: 'rm -f /var/lib/ferry/packages/registry-mirrors.list' },
      { command: /^rm -rf -- \/etc\/containerd\/certs\.d \/etc\/ferry\/registry\/ca\.crt .*ferry-registry-ca\.crt .*ferry-registry-ca\.crt$/, readOnly: false },
      { command: /^if test -d \/etc\/ferry\/registry; then rmdir/, readOnly: false },
      { command: /^if test -d \/etc\/ferry; then rmdir/, readOnly: false },
      // Without --fresh, update-ca-certificates keeps the links of the removed anchor in /etc/ssl/certs.
      { command: 'update-ca-certificates --fresh', readOnly: false },
    ], { '/etc/os-release': fixture('debian12-os-release') });
    await phase('reset-registry-mirrors').run({ spec: ctx.inventory.hosts.find((h) => h.name === 'gpu-1')!, host }, ctx, {});
    expect(host.unmet()).toEqual([]);
  });
});
