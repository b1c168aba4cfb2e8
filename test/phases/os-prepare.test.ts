// os-prepare's plan as a table: what it sees on a node → the steps it plans. Snapshots are built field by field
// (the parser of the real script's output is tested in os-prepare-plan.test.ts and against real nodes in the lab).
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { renderedFile } from '../../src/render/file.ts';
import { KUBERNETES_SYSCTLS } from '../../src/render/sysctl.ts';
import type { Snapshot } from '../../src/phases/os-prepare-plan.ts';
import { planPrepare, type PrepareSeen } from '../../src/phases/os-prepare.ts';
import { lines } from './plan-support.ts';
import { debianFamily } from '../../src/phases/os/debian.ts';
import { elFamily } from '../../src/phases/os/el.ts';

function seen(over: Partial<Snapshot> = {}, rest: Partial<PrepareSeen> = {}): PrepareSeen {
  const sysctls = new Map(Object.entries(KUBERNETES_SYSCTLS).map(([k, v]) => [k, { value: v, writable: true }]));
  const snapshot: Snapshot = {
    swapActive: false, fstab: '', modules: new Map([['overlay', true], ['br_netfilter', true]]), sysctls,
    selinux: 'absent', selinuxConfig: '', nftTable: true, unitEnabled: true, ...over,
  };
  return { host: 'n1', modules: ['overlay', 'br_netfilter'], snapshot, changed: [], family: debianFamily, selinuxPolicy: 'permissive', selinuxMissing: [], ...rest };
}
const withSysctl = (key: string, value: string | undefined, writable = true) => {
  const s = seen();
  s.snapshot.sysctls.set(key, { value, writable });
  return s;
};

describe('os-prepare plan', () => {
  const cases: [string, PrepareSeen, unknown[]][] = [
    ['a prepared node: nothing', seen(), []],
    ['swap on: off now (fstab is a file change)', seen({ swapActive: true }), ['swapoff --all']],
    ['SELinux enforcing on EL: permissive now, said', seen({ selinux: 'enforcing' }, { family: elFamily }), ['setenforce 0', 'warn: n1: SELinux was enforcing and is set to permissive now (setenforce 0), as the inventory\'s selinux: permissive says (kubeadm\'s advice); to keep it enforcing set selinux: enforcing (installs container-selinux from the bundle), or selinux: leave']],
    ['SELinux enforcing on EL in its config too: the file is placed as well', seen({ selinux: 'enforcing', selinuxConfig: 'SELINUX=enforcing\nSELINUXTYPE=targeted' }, { family: elFamily }),
      ['place /etc/selinux/config', 'setenforce 0', expect.stringMatching(/^warn: n1: SELinux was enforcing and is set to permissive now \(setenforce 0\) and in \/etc\/selinux\/config/)]],
    ['selinux: enforcing keeps it and brings container-selinux from the bundle', seen({ selinux: 'enforcing' }, { family: elFamily, selinuxPolicy: 'enforcing', selinuxMissing: ['container-selinux'] }),
      ["dnf -y -q --disablerepo=* --enablerepo=ferry --disableexcludes=ferry install container-selinux"]],
    ['selinux: enforcing with container-selinux there: nothing', seen({ selinux: 'enforcing' }, { family: elFamily, selinuxPolicy: 'enforcing' }), []],
    ['selinux: leave on an enforcing node: only a warning', seen({ selinux: 'enforcing' }, { family: elFamily, selinuxPolicy: 'leave' }), [expect.stringMatching(/^warn: n1: SELinux is enforcing and the inventory says selinux: leave/)]],
    ['an enforcing report on a family without SELinux changes nothing', seen({ selinux: 'enforcing' }), []],
    ['a module missing: loaded', seen({ modules: new Map([['overlay', false], ['br_netfilter', true]]) }), ['modprobe overlay']],
    ['a sysctl off: set', withSysctl('net.ipv4.ip_forward', '0'), ['sysctl -q -w net.ipv4.ip_forward=1']],
    ['the firewall table gone: the unit restarts', seen({ nftTable: false }), ['systemctl restart ferry-firewall.service']],
    ['the unit disabled: enabled', seen({ unitEnabled: false }), ['systemctl enable ferry-firewall.service']],
    ['the nftables file changed: placed, then the unit restarts', seen({}, { changed: [renderedFile('/etc/nftables.d/ferry.nft', 'table inet ferry {}\n', { verify: ['nft', '-c', '-f', '{staged}'] })] }),
      ['place /etc/nftables.d/ferry.nft', 'systemctl restart ferry-firewall.service']],
    ['the unit file changed: placed, daemon-reload, restart', seen({}, { changed: [renderedFile('/etc/systemd/system/ferry-firewall.service', '[Unit]\n')] }),
      ['place /etc/systemd/system/ferry-firewall.service', 'systemctl daemon-reload', 'systemctl restart ferry-firewall.service']],
  ];
  it.each(cases)('%s', (_name, s, want) => {
    expect(lines(planPrepare(s))).toEqual(want);
  });

  it('a read-only sysctl that differs is a warning, not work (the runner calls a warnings-only plan done)', () => {
    const steps = planPrepare(withSysctl('fs.inotify.max_user_watches', '8192', false));
    expect(steps).toEqual([{ kind: 'warn', message: `n1: sysctl fs.inotify.max_user_watches is 8192, wanted ${KUBERNETES_SYSCTLS['fs.inotify.max_user_watches']}, and /proc/sys is read-only here (set it on the host that owns the kernel)` }]);
  });

  it('a sysctl the kernel lacks is refused when no module still to load could create it', () => {
    expect(() => planPrepare(withSysctl('net.ipv4.ip_forward', undefined))).toThrow(UserError);
    expect(() => planPrepare(withSysctl('net.ipv4.ip_forward', undefined))).toThrow('n1: the kernel has no net.ipv4.ip_forward');
  });
});
