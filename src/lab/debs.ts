// Carry Debian packages into the air-gapped lab: download a package set and the dependencies the base rootfs lacks,
// once, into a cache directory that startLab({ debs }) bind-mounts read-only at /debs in every node.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { withFileLock } from './file-lock.ts';
import { CACHE_DIR, ensureBaseRootfs } from './rootfs.ts';

/** Download these Debian packages and the dependencies the lab base rootfs lacks, into a cache dir (reused), with apt-get run on the host against the base rootfs's dpkg status. Returns the dir. */
export async function fetchDebs(packages: string[]): Promise<string> {
  const base = await ensureBaseRootfs();
  const wanted = [...new Set(packages)].sort();
  const key = createHash('sha256').update(JSON.stringify({ base: base.key, wanted })).digest('hex').slice(0, 12);
  const dir = join(CACHE_DIR, `debs-${key}`);
  const done = join(dir, '.ferry-complete');
  if (existsSync(done)) return dir;
  await mkdir(CACHE_DIR, { recursive: true });
  await withFileLock(join(CACHE_DIR, `debs-${key}.lock`), async () => {
    if (existsSync(done)) return;
    const work = `${dir}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    // apt-get sees the base's installed packages (its own copy of the dpkg status, so the shared base is never
    // locked or written) and downloads only what a node lacks.
    await mkdir(join(work, 'dpkg'), { recursive: true });
    await mkdir(join(work, 'archives/partial'), { recursive: true });
    await copyFile(join(base.dir, 'var/lib/dpkg/status'), join(work, 'dpkg/status'));
    const argv = [
      '-q', '-y', '--no-install-recommends', '-o', `Dir::State::status=${work}/dpkg/status`,
      '-o', `Dir::Cache::archives=${work}/archives`, '-o', 'Debug::NoLocking=1', 'install', '--download-only', ...wanted,
    ];
    let r = await execa('apt-get', argv, { reject: false, env: { DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.exitCode !== 0) {
      // The host's package lists may be missing or stale on a fresh machine: refresh once and retry.
      await execa('apt-get', ['-q', 'update']);
      r = await execa('apt-get', argv, { reject: false, env: { DEBIAN_FRONTEND: 'noninteractive' } });
    }
    if (r.exitCode !== 0) throw new Error(`apt-get could not download ${wanted.join(' ')}: ${String(r.stderr).trim().slice(-800)}`);
    await mkdir(join(work, 'out'));
    const debs = (await readdir(join(work, 'archives'))).filter((f) => f.endsWith('.deb'));
    for (const f of debs) await rename(join(work, 'archives', f), join(work, 'out', f));
    await writeFile(join(work, 'out', '.ferry-complete'), `${wanted.join(' ')}\n${debs.sort().join('\n')}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(join(work, 'out'), dir);
    await rm(work, { recursive: true, force: true });
  });
  return dir;
}
