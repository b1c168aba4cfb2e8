// A content-addressed blob directory on disk (`<dir>/sha256/<hex>`, `<hex>.partial` while downloading):
// the persistent cache that lets an interrupted build resume. A finished file is only ever created by rename
// after its digest was checked.
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { hashFile } from '../util/hash.ts';

/** `sha256:<hex>` → `<hex>`; anything else is refused (only sha256 is verified). */
export function digestHex(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new UserError(`unsupported digest ${JSON.stringify(digest)}: ferry verifies sha256 only`);
  return m[1]!;
}

/** Size of a file, undefined when it is not there (partial and finished blobs are probed this way). */
export async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The cache directory as an object, so callers name blobs by digest and never build paths themselves. */
export class BlobStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  path(digest: string): string {
    return join(this.dir, 'sha256', digestHex(digest));
  }

  partialPath(digest: string): string {
    return `${this.path(digest)}.partial`;
  }

  async prepare(): Promise<void> {
    await mkdir(join(this.dir, 'sha256'), { recursive: true });
  }

  /** True when a finished blob of the right size is there and still hashes to its name; a bad one is removed. */
  async hasVerified(digest: string, size: number): Promise<boolean> {
    const path = this.path(digest);
    const found = await sizeOf(path);
    if (found === undefined) return false;
    if (found === size && (await hashFile(path)).sha256 === digestHex(digest)) return true;
    await unlink(path);
    return false;
  }

  /** Move a checked partial file into place. */
  async commit(digest: string): Promise<void> {
    await rename(this.partialPath(digest), this.path(digest));
  }
}
