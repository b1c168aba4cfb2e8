// A lock file against two installs on the same cluster at once. A lock left by a process that is gone is taken over.
import { open, readFile, rm, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError } from '../errors.ts';

export interface LockOwner {
  pid: number;
  hostname: string;
  command: string;
  since: string;
}

export interface HeldLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lock at `path` for `owner`, or fail with a UserError naming who holds it. */
export async function acquireInstallLock(path: string, owner: LockOwner): Promise<HeldLock> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(`${JSON.stringify(owner)}\n`);
      await file.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = JSON.parse(await readFile(path, 'utf8').catch(() => '{}')) as Partial<LockOwner>;
      const sameMachine = held.hostname === owner.hostname;
      if (typeof held.pid === 'number' && (!sameMachine || alive(held.pid))) {
        throw new UserError(
          `another ferry (pid ${held.pid} on ${held.hostname}, \`${held.command}\`, since ${held.since}) holds ${path}`,
          { hint: `wait for it to finish; if it is gone for good, remove ${path}` },
        );
      }
      await rm(path, { force: true }); // stale: its process is gone
    }
  }
  throw new UserError(`could not take the install lock ${path}`);
}
