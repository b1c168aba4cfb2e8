// Reset phases against a fake host: what counts as left over, and the exact undo steps of reset-container-runtime
// on Debian (units, exactly the recorded packages, files, empty directories).
import { describe, expect, it } from 'vitest';
import { resetPhases } from '../../src/phases/reset.ts';
import { FakeHost } from '../support/fake-host.ts';
import { fixture } from './fixtures.ts';
import { phaseContext } from './phase-context.ts';

const phase = (id: string) => resetPhases.find((p) => p.id === id)!;

describe('reset phases', () => {
  it('is done when the leftover probe prints nothing, not done when it names a path', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1'] });
    const spec = ctx.inventory.hosts[0]!;
    const clean = new FakeHost('cp-1', [{ command: /^if test -e \/etc\/apt\/sources\.list\.d\/ferry\.list/, stdout: '', readOnly: true }]);
    expect(await phase('reset-local-repo').isDone({ spec, host: clean }, ctx, {})).toBe(true);
    const dirty = new FakeHost('cp-1', [{ command: /^if test -e \/etc\/apt\/sources\.list\.d\/ferry\.list/, stdout: '/etc/apt/sources.list.d/ferry.list\n', readOnly: true }]);
    expect(await phase('reset-local-repo').isDone({ spec, host: dirty }, ctx, {})).toBe(false);
  });

  it('removes only the packages install recorded that are still installed, then its files and empty dirs', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1'] });
    const installed = `${fixture('debian12-lab-dpkg-query.txt')}ii  containerd\nii  runc\n`;
    const host = new FakeHost('cp-1', [
      { command: "systemctl disable --now containerd 2>/dev/null || true" },
      { command: 'cat /var/lib/ferry/packages/container-runtime.list', stdout: 'containerd\nlibfoo-gone\nrunc\n', readOnly: true },
      { command: "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'", stdout: installed, readOnly: true },
      { command: 'apt-get -q -y -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/ferry.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 purge containerd runc' },
      { command: 'rm -f /var/lib/ferry/packages/container-runtime.list' },
      { command: 'rm -rf -- /etc/containerd/config.toml' },
      { command: 'if test -d /etc/containerd; then rmdir --ignore-fail-on-non-empty -- /etc/containerd; fi' },
      { command: 'if test -d /etc/cni/net.d; then rmdir --ignore-fail-on-non-empty -- /etc/cni/net.d; fi' },
      { command: 'if test -d /etc/cni; then rmdir --ignore-fail-on-non-empty -- /etc/cni; fi' },
    ]);
    await phase('reset-container-runtime').run({ spec: ctx.inventory.hosts[0]!, host }, ctx, {});
    expect(host.unmet()).toEqual([]);
  });

  it('reset-registry-mirrors removes certs.d, the CA and both trust anchors, then rebuilds the trust store for the OS', async () => {
    const ctx = phaseContext('el', { hosts: ['cp-1'] });
    const host = new FakeHost('cp-1', [
      // EL nodes have curl (or curl-minimal): registry-mirrors installed none, so nothing is recorded.
      { command: 'cat /var/lib/ferry/packages/registry-mirrors.list', exitCode: 1, readOnly: true },
      { command: 'rm -rf -- /etc/containerd/certs.d /etc/ferry/registry/ca.crt /etc/pki/ca-trust/source/anchors/ferry-registry-ca.crt /usr/local/share/ca-certificates/ferry-registry-ca.crt' },
      { command: 'if test -d /etc/ferry/registry; then rmdir --ignore-fail-on-non-empty -- /etc/ferry/registry; fi' },
      { command: 'if test -d /etc/ferry; then rmdir --ignore-fail-on-non-empty -- /etc/ferry; fi' },
      { command: 'update-ca-trust extract' },
    ], { '/etc/os-release': fixture('rocky86-os-release') });
    await phase('reset-registry-mirrors').run({ spec: ctx.inventory.hosts[0]!, host }, ctx, {});
    expect(host.unmet()).toEqual([]);
  });

  it('reset-registry stops the unit and removes binary, config, TLS files and data, on registry hosts only', async () => {
    const ctx = phaseContext('debian');
    expect(phase('reset-registry').targets(ctx, {}).map((h) => h.name)).toEqual(['cp-1', 'cp-2', 'cp-3']);
    const host = new FakeHost('cp-1', [
      { command: 'systemctl disable --now ferry-registry.service 2>/dev/null || true' },
      { command: 'rm -rf -- /etc/systemd/system/ferry-registry.service /usr/local/bin/ferry-registry /etc/ferry/registry /var/lib/ferry/registry' },
      { command: 'if test -d /etc/ferry; then rmdir --ignore-fail-on-non-empty -- /etc/ferry; fi' },
      { command: 'systemctl daemon-reload' },
    ]);
    await phase('reset-registry').run({ spec: ctx.inventory.hosts[0]!, host }, ctx, {});
    expect(host.unmet()).toEqual([]);
  });
});
