import { describe, expect, it } from 'vitest';
import { parseSnapshot, permissiveSelinuxConfig, planSysctls, snapshotScript } from '../../src/phases/os-prepare-plan.ts';
import { restoreSwapInFstab } from '../../src/phases/reset.ts';
import { disableSwapInFstab } from '../../src/render/swap.ts';
import { LocalHost } from '../../src/hosts/local.ts';
import { fixture } from './fixtures.ts';

const snap = (parts: Record<string, string>) =>
  ['swaps', 'fstab', 'modules', 'sysctl', 'selinux', 'selinux-config', 'nft', 'unit'].map((k) => `==ferry:${k}==\n${parts[k] ?? ''}`).join('\n');

describe('os-prepare decisions', () => {
  it('reads swap, modules, sysctls, SELinux, the nft table and the unit from the snapshot', () => {
    const s = parseSnapshot(snap({
      swaps: fixture('proc-swaps-one.txt'),
      modules: 'overlay present\nbr_netfilter absent',
      sysctl: 'net.ipv4.ip_forward\t0\trw\nkernel.keys.root_maxkeys\t200\tro\nnet.bridge.bridge-nf-call-iptables\t<missing>\tro',
      selinux: 'Enforcing',
      'selinux-config': fixture('el8-selinux-config'),
      nft: 'absent', unit: 'disabled',
    }));
    expect(s).toMatchObject({ swapActive: true, selinux: 'enforcing', nftTable: false, unitEnabled: false });
    expect([...s.modules]).toEqual([['overlay', true], ['br_netfilter', false]]);
    expect(s.sysctls.get('net.bridge.bridge-nf-call-iptables')).toEqual({ value: undefined, writable: false });
    expect(parseSnapshot(snap({ swaps: fixture('proc-swaps-none.txt'), selinux: 'absent' }))).toMatchObject({ swapActive: false, selinux: 'absent' });
  });

  it('runs for real: the snapshot script is valid sh and its output parses (this machine)', async () => {
    const r = await new LocalHost().exec(snapshotScript(['overlay', 'no_such_module_xyz'], ['net.ipv4.ip_forward', 'kernel.no_such_key']), { readOnly: true });
    const s = parseSnapshot(r.stdout);
    expect(s.modules.get('no_such_module_xyz')).toBe(false);
    expect(s.sysctls.get('net.ipv4.ip_forward')?.value).toMatch(/^[01]$/);
    expect(s.sysctls.get('kernel.no_such_key')).toEqual({ value: undefined, writable: false });
  });

  it.each([
    ['already right', '1', 'rw', { set: [], readOnly: [], missing: [] }],
    ['writable and different', '0', 'rw', { set: ['net.ipv4.ip_forward=1'], readOnly: [], missing: [] }],
    ['read-only and different (a container)', '0', 'ro', { set: [], readOnly: ['net.ipv4.ip_forward is 0, wanted 1'], missing: [] }],
    ['absent from the kernel', '<missing>', 'ro', { set: [], readOnly: [], missing: ['net.ipv4.ip_forward'] }],
  ])('sysctl %s', (_n, value, rw, plan) => {
    const s = parseSnapshot(snap({ sysctl: `net.ipv4.ip_forward\t${value}\t${rw}` }));
    expect(planSysctls(s, { 'net.ipv4.ip_forward': '1' })).toEqual(plan);
  });

  it('compares multi-value sysctls with their tabs as single spaces', () => {
    const s = parseSnapshot(snap({ sysctl: 'net.ipv4.ip_local_port_range\t32768\t60999\trw' }));
    expect(s.sysctls.get('net.ipv4.ip_local_port_range')?.value).toBe('32768 60999');
  });

  it('turns SELinux enforcing to permissive in the EL config, once', () => {
    const once = permissiveSelinuxConfig(fixture('el8-selinux-config'));
    expect(once.changed).toBe(true);
    expect(once.text).toMatch(/^SELINUX=permissive$/m);
    expect(once.text).toMatch(/^SELINUXTYPE=targeted$/m);
    expect(permissiveSelinuxConfig(once.text).changed).toBe(false);
  });

  it('reset restores exactly the swap lines install commented out', () => {
    const fstab = 'UUID=1 / ext4 defaults 0 1\n/dev/mapper/rl-swap none swap defaults 0 0\n';
    const off = disableSwapInFstab(fstab).file.content;
    expect(off).not.toBe(fstab);
    expect(restoreSwapInFstab(off)).toEqual({ text: fstab, changed: true });
    expect(restoreSwapInFstab(fstab).changed).toBe(false);
  });
});
