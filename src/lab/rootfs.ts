// The lab's base root filesystem: Debian 12 made by debootstrap from this machine's own apt mirror, cached as a
// tarball under /var/cache/ferry-test keyed by its package list, unpacked and customised once, and shared
// read-only by every node.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { withFileLock } from './file-lock.ts';
import { pickDebianMirror } from './apt-sources.ts';
import { machineAptSources } from '../bundle/sources/machine-apt-sources.ts';

/** Machine-wide cache of the lab, kept between runs (outside the repo). */
export const CACHE_DIR = '/var/cache/ferry-test';
/** Debian 12, the userland of every lab node. */
export const SUITE = 'bookworm';

/** Packages in the base beyond minbase: LAB.md's list plus what doctor and install probe with. */
export const BASE_PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'nftables', 'kmod', 'ca-certificates',
  'iputils-ping', 'python3-minimal', 'sudo', 'iptables', 'procps', 'util-linux', 'python3', 'python3-yaml', 'openssl',
] as const;

// sshd makes its own host keys at first start, so every node has unique ones. The stock unit runs `sshd -t`
// first, which fails without keys: reset ExecStartPre and put key generation before the config test. Only
// ed25519 and ECDSA keys: an RSA key costs 1-2 s of CPU per node at boot, and nothing here needs one.
const HOST_KEYS_SCRIPT = `#!/bin/sh
# ferry lab: make this node's own SSH host keys at first start.
for t in ed25519 ecdsa; do
  f=/etc/ssh/ssh_host_\${t}_key
  [ -e "\$f" ] || ssh-keygen -q -N '' -t "\$t" -f "\$f"
done
`;
const SSH_DROP_IN = `[Service]
ExecStartPre=
ExecStartPre=/usr/local/sbin/ferry-lab-host-keys
ExecStartPre=/usr/sbin/sshd -t
`;
const SSHD_HOST_KEYS = 'HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\n';
// Units a test node never needs: periodic jobs, module loads that cannot work (the kernel has no module support),
// debug file systems. Masking them keeps boots short on a busy machine.
const MASKED_UNITS = [
  'apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer', 'e2scrub_all.timer', 'e2scrub_reap.service',
  'modprobe@.service', 'dev-hugepages.mount', 'sys-kernel-debug.mount', 'sys-kernel-tracing.mount',
];

export interface BaseRootfs {
  /** Unpacked tree, the read-only lower layer of every node's overlay. */
  dir: string;
  tarball: string;
  key: string;
}

/** Cache key of the debootstrap tarball: the suite and package list (a change re-runs debootstrap). */
export function tarballKey(): string {
  return createHash('sha256').update(JSON.stringify({ SUITE, BASE_PACKAGES })).digest('hex').slice(0, 12);
}

/** Cache key of the unpacked base: the tarball plus the customisation (a change only re-unpacks, in seconds). */
export function baseKey(): string {
  const custom = { HOST_KEYS_SCRIPT, SSH_DROP_IN, SSHD_HOST_KEYS, MASKED_UNITS, v: 1 };
  return createHash('sha256').update(JSON.stringify({ tarball: tarballKey(), custom })).digest('hex').slice(0, 12);
}

/** The base rootfs, built or unpacked when missing (under a machine-wide lock). */
export async function ensureBaseRootfs(): Promise<BaseRootfs> {
  const key = baseKey();
  const dir = join(CACHE_DIR, `base-${key}`);
  const tarball = join(CACHE_DIR, `debootstrap-${tarballKey()}.tar`);
  const done = join(dir, '.ferry-complete');
  if (existsSync(done)) return { dir, tarball, key };
  await mkdir(CACHE_DIR, { recursive: true });
  await withFileLock(join(CACHE_DIR, `base-${key}.lock`), async () => {
    if (existsSync(done)) return;
    await withFileLock(`${tarball}.lock`, async () => {
      if (!existsSync(tarball)) await buildTarball(tarball);
    });
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    await execa('tar', ['-x', '--numeric-owner', '-p', '-f', tarball, '-C', tmp]);
    await customize(tmp);
    await writeFile(join(tmp, '.ferry-complete'), `${key}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  });
  return { dir, tarball, key };
}

async function buildTarball(tarball: string): Promise<void> {
  const mirror = pickDebianMirror(await machineAptSources(), SUITE);
  if (!mirror) throw new Error(`no apt source on this machine serves ${SUITE} main; the lab needs one for debootstrap`);
  const root = `${tarball}.root-${process.pid}`;
  await rm(root, { recursive: true, force: true });
  try {
    await execa('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, SUITE, root, mirror]);
    await execa('sh', ['-c', 'rm -f "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages', 'sh', root]);
    await execa('tar', ['-c', '--numeric-owner', '-f', `${tarball}.tmp`, '-C', root, '.']);
    await rename(`${tarball}.tmp`, tarball);
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(`${tarball}.tmp`, { force: true });
  }
}

async function customize(root: string): Promise<void> {
  for (const f of await readdir(join(root, 'etc/ssh'))) if (f.startsWith('ssh_host_')) await rm(join(root, 'etc/ssh', f));
  await mkdir(join(root, 'etc/systemd/system/ssh.service.d'), { recursive: true });
  await writeFile(join(root, 'etc/systemd/system/ssh.service.d/ferry-lab-host-keys.conf'), SSH_DROP_IN);
  await writeFile(join(root, 'etc/machine-id'), '');
  await rm(join(root, 'var/lib/dbus/machine-id'), { force: true });
  await rm(join(root, 'etc/hostname'), { force: true });
  await writeFile(join(root, 'usr/local/sbin/ferry-lab-host-keys'), HOST_KEYS_SCRIPT, { mode: 0o755 });
  await writeFile(join(root, 'etc/ssh/sshd_config.d/ferry-lab-host-keys.conf'), SSHD_HOST_KEYS);
  await execa('chroot', [root, 'systemctl', 'enable', 'systemd-networkd.service']);
  await execa('chroot', [root, 'systemctl', 'mask', ...MASKED_UNITS]);
  await mkdir(join(root, 'root/.ssh'), { recursive: true });
  await chmod(join(root, 'root/.ssh'), 0o700);
}
