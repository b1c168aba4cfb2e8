// Place a cached file into the bundle: shared by every source.
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Put `from` (in the cache) at `to` (in the bundle): a hard link when both share a file system, else a copy. */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await rm(to, { force: true });
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw error;
    await copyFile(from, to);
  }
}
