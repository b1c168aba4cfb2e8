// A lock file shared by every lab on this machine (other test runs may build the same cache at the same time).
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Hold `path` exclusively while `work` runs; a lock left by a dead process is taken over. Bounded wait. */
export async function withFileLock<T>(path: string, work: () => Promise<T>, options: { waitMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? 900_000);
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (owner > 0 && !isAlive(owner)) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`lock ${path} is held by PID ${owner}; gave up waiting`);
      await sleep(500);
    }
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}

/** Whether a process with this PID exists (signal 0 probes without sending). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A directory of the lab cache built once by any process on the machine: `build` fills a temp dir beside it (under
 * `<dir>.lock`), which is marked complete and renamed into place; later calls find it done and return at once.
 */
export async function buildCachedDir(dir: string, build: (work: string) => Promise<void>): Promise<void> {
  const done = join(dir, '.ferry-complete');
  if (existsSync(done)) return;
  await mkdir(dirname(dir), { recursive: true });
  await withFileLock(`${dir}.lock`, async () => {
    if (existsSync(done)) return;
    const work = `${dir}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    try {
      await build(work);
    } catch (error) {
      await rm(work, { recursive: true, force: true });
      throw error;
    }
    await writeFile(join(work, '.ferry-complete'), '');
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
  });
}
