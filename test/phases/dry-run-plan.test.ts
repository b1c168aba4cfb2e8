// The whole dry-run plan of a fresh Debian 12 control plane, as `ferry install --dry-run` prints it: read-only
// commands are answered by a fake host with real outputs (fixtures/README.md), everything else is recorded.
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateLayout } from '../../src/state/layout.ts';
import { describe, expect, it } from 'vitest';
import { formatDryRunPlan } from '../../src/cli/dry-run-plan.ts';
import { DryRunHost, DryRunPlan } from '../../src/hosts/dry-run.ts';
import { phaseRegistry } from '../../src/phases/registry.ts';
import { planPlaybook, runPhases } from '../../src/phases/runner.ts';
import { FakeHost } from '../support/fake-host.ts';
import { fixture } from './fixtures.ts';
import { phaseContext } from './phase-context.ts';

// A fresh lab node: no swap, overlay and br_netfilter built into the kernel, kernel.* read-only (systemd-nspawn).
const FRESH = '==ferry:swaps==\n' + fixture('proc-swaps-none.txt') + '==ferry:fstab==\n# UNCONFIGURED FSTAB FOR BASE SYSTEM\n' +
  '==ferry:modules==\noverlay present\nbr_netfilter present\nipip present\n==ferry:sysctl==\n' +
  'net.bridge.bridge-nf-call-iptables\t0\trw\nnet.bridge.bridge-nf-call-ip6tables\t0\trw\nnet.ipv4.ip_forward\t0\trw\n' +
  'fs.inotify.max_user_instances\t128\trw\nfs.inotify.max_user_watches\t29165\trw\nkernel.keys.root_maxkeys\t1000000\tro\nkernel.keys.root_maxbytes\t25000000\tro\n' +
  '==ferry:selinux==\nabsent\n==ferry:selinux-config==\n==ferry:nft==\nabsent\n==ferry:unit==\n';

describe('install --dry-run plan', () => {
  it('lists every command and file for a fresh Debian control plane, and nothing runs', async () => {
    const ctx = phaseContext('debian', { hosts: ['cp-1'] });
    const live = new FakeHost('cp-1', [
      { command: /^sha256sum -- /, exitCode: 1, readOnly: true, times: Infinity },
      { command: /^echo ==ferry:swaps==/, stdout: FRESH, readOnly: true, times: Infinity },
      { command: "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n'", stdout: fixture('debian12-lab-dpkg-query.txt'), readOnly: true, times: Infinity },
      { command: /^systemctl is-active /, stdout: 'inactive\ninactive\n', exitCode: 3, readOnly: true, times: Infinity },
      { command: /^cat \/var\/lib\/ferry\/packages\//, exitCode: 1, readOnly: true, times: Infinity },
      { command: /^dpkg-query -W -f '\$\{Package\} \$\{Version\} \$\{db:Status-Abbrev\}\n' kubeadm kubelet kubectl$/, exitCode: 1, readOnly: true, times: Infinity },
      { command: 'apt-mark showhold', readOnly: true, times: Infinity },
      { command: 'systemctl is-enabled kubelet', exitCode: 1, readOnly: true, times: Infinity },
      { command: 'systemctl is-enabled containerd', exitCode: 1, readOnly: true, times: Infinity },
      { command: 'systemctl is-enabled haproxy keepalived', stdout: 'disabled\ndisabled\n', exitCode: 1, readOnly: true, times: Infinity },
      { command: /^test -e \/etc\/kubernetes\/admin\.conf && kubectl /, exitCode: 1, readOnly: true, times: Infinity },
    ]);
    const stateDir = await mkdtemp(join(tmpdir(), 'ferry-dry-run-'));
    Object.assign(ctx, { layout: new StateLayout(stateDir) });
    ctx.state.join = { token: 'abcdef.0123456789abcdef', certificateKey: '0123456789abcdef'.repeat(4) };
    const plan = new DryRunPlan();
    // The admin host records too (as the orchestrator wraps it): kubeadm-init reads it for admin.conf.
    const admin = new FakeHost('admin host', [{ command: `test -e ${join(stateDir, 'admin.conf')}`, exitCode: 1, readOnly: true, times: Infinity }]);
    ctx.admin = new DryRunHost('admin host', { plan, live: admin });
    const steps = ['local-repo', 'os-prepare', 'container-runtime', 'load-balancer', 'kubernetes-packages', 'kubeadm-init'].map((id) => ({ id, params: {} }));
    await runPhases(planPlaybook(steps, phaseRegistry(), 'test'), ctx, { concurrency: 1, dryRun: true, hostFor: () => new DryRunHost('cp-1', { plan, live }) });
    expect([...live.mutating(), ...admin.mutating()]).toEqual([]);
    // Nothing of kubeadm's ran, so nothing of it is kept on the admin host either.
    expect(await readdir(stateDir)).toEqual([]);
    await expect(formatDryRunPlan(plan.entries, ['cp-1', 'admin host']).replaceAll(stateDir, '<state dir>')).toMatchFileSnapshot('__snapshots__/dry-run-debian-control-plane.txt');
  });
});
