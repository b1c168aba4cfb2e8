import { describe, expect, it } from 'vitest';
import { disableSwapInFstab, swapOffArgv } from '../../src/render/swap.ts';

// The layout anaconda writes on a default RHEL 9 / Rocky 9 LVM install (header text as anaconda prints it;
// UUIDs are examples).
const rhel9 = `
#
# /etc/fstab
# Created by anaconda on Tue Mar  5 10:21:33 2024
#
# Accessible filesystems, by reference, are maintained under '/dev/disk/'.
# See man pages fstab(5), findfs(8), mount(8) and/or blkid(8) for more info.
#
# After editing this file, run 'systemctl daemon-reload' to update systemd
# units generated from this file.
#
/dev/mapper/rl-root     /                       xfs     defaults        0 0
UUID=6c3b2a1e-6f0d-4c59-9d4e-8a1f0b2c3d4e /boot                   xfs     defaults        0 0
/dev/mapper/rl-swap     none                    swap    defaults        0 0
`;
// Ubuntu 22.04 installer: a swap file.
const ubuntu = `# /etc/fstab: static file system information.
/dev/disk/by-uuid/0f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718 / ext4 defaults 0 1
/swap.img\tnone\tswap\tsw\t0\t0
`;

describe('disableSwapInFstab', () => {
  it.each([
    { name: 'rhel9-lvm', fstab: rhel9, swapLine: '/dev/mapper/rl-swap' },
    { name: 'ubuntu-swapfile', fstab: ubuntu, swapLine: '/swap.img' },
  ])('$name: comments out the swap entry and nothing else', async ({ name, fstab, swapLine }) => {
    const { file, changed } = disableSwapInFstab(fstab);
    expect(changed).toBe(true);
    await expect(file.content).toMatchFileSnapshot(`__snapshots__/fstab-${name}.txt`);
    const active = file.content.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    expect(active.some((l) => l.includes(swapLine))).toBe(false);
    expect(active).toHaveLength(fstab.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')).length - 1);
  });

  it('is idempotent', () => {
    const once = disableSwapInFstab(rhel9).file.content;
    const twice = disableSwapInFstab(once);
    expect(twice.changed).toBe(false);
    expect(twice.file.content).toBe(once);
  });

  it('turns swap off now with swapoff --all', () => {
    expect(swapOffArgv()).toEqual(['swapoff', '--all']);
  });
});
