// The lab's base root filesystem: Debian 12 made by debootstrap from this machine's own apt mirror, cached as a
// tarball under /var/cache/ferry-test keyed by its package list, unpacked once and shared read-only by every node.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { withFileLock } from './file-lock.ts';
import { pickDebianMirror, type AptSourcesFile } from './apt-sources.ts';

export const CACHE_DIR = '/var/cache/ferry-test';
export const SUITE = 'bookworm';

/** Packages in the base beyond minbase: LAB.md's list plus what doctor and install probe with. */
export const BASE_PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'nftables', 'kmod', 'ca-certificates',
  'iputils-ping', 'python3-minimal', 'sudo', 'iptables', 'procps', 'util-linux',
] as const;

// sshd makes its own host keys at first start, so every node has unique ones. The stock unit runs `sshd -t`
// first, which fails without keys: reset ExecStartPre and put key generation before the config test.
const SSH_DROP_IN = `[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
`;

export interface BaseRootfs {
  /** Unpacked tree, the read-only lower layer of every node's overlay. */
  dir: string;
  tarball: string;
  key: string;
}

/** Cache key of the base: a change to the package list or the customisation rebuilds it. */
export function baseKey(): string {
  return createHash('sha256').update(JSON.stringify({ SUITE, BASE_PACKAGES, SSH_DROP_IN, v: 1 })).digest('hex').slice(0, 12);
}

/** The base rootfs, built or unpacked when missing (under a machine-wide lock). */
export async function ensureBaseRootfs(): Promise<BaseRootfs> {
  const key = baseKey();
  const dir = join(CACHE_DIR, `base-${key}`);
  const tarball = join(CACHE_DIR, `base-${key}.tar`);
  const done = join(dir, '.ferry-complete');
  if (existsSync(done)) return { dir, tarball, key };
  await mkdir(CACHE_DIR, { recursive: true });
  await withFileLock(join(CACHE_DIR, `base-${key}.lock`), async () => {
    if (existsSync(done)) return;
    if (!existsSync(tarball)) await buildTarball(tarball);
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    await execa('tar', ['-x', '--numeric-owner', '-p', '-f', tarball, '-C', tmp]);
    await writeFile(join(tmp, '.ferry-complete'), `${key}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  });
  return { dir, tarball, key };
}

async function readAptSources(): Promise<AptSourcesFile[]> {
  const files: AptSourcesFile[] = [];
  const add = async (path: string) => files.push({ path, text: await readFile(path, 'utf8') });
  if (existsSync('/etc/apt/sources.list')) await add('/etc/apt/sources.list');
  const d = '/etc/apt/sources.list.d';
  if (existsSync(d)) for (const f of (await readdir(d)).sort()) if (/\.(list|sources)$/.test(f)) await add(join(d, f));
  return files;
}

async function buildTarball(tarball: string): Promise<void> {
  const mirror = pickDebianMirror(await readAptSources(), SUITE);
  if (!mirror) throw new Error(`no apt source on this machine serves ${SUITE} main; the lab needs one for debootstrap`);
  const root = `${tarball}.root-${process.pid}`;
  await rm(root, { recursive: true, force: true });
  try {
    await execa('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, SUITE, root, mirror]);
    await customize(root);
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
  await execa('chroot', [root, 'systemctl', 'enable', 'systemd-networkd.service']);
  await mkdir(join(root, 'root/.ssh'), { recursive: true });
  await chmod(join(root, 'root/.ssh'), 0o700);
  await execa('sh', ['-c', 'rm -f "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages', 'sh', root]);
}
