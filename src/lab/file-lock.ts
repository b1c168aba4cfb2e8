// A lock file shared by every lab on this machine (other test runs may build the same cache at the same time).
import { open, readFile, rm } from 'node:fs/promises';
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
