// download() of a file:// upstream (how ferry demo carries Debian's registry binary): copied, verified, cached.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { download } from '../../../src/bundle/http/download.ts';
import { UserError, VerifyError } from '../../../src/errors.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-file-url-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('download of a file:// URL', () => {
  it('copies the file, checks its sha256, and reuses the copy the next time', async () => {
    const body = randomBytes(70_000);
    const sha256 = createHash('sha256').update(body).digest('hex');
    await writeFile(join(dir, 'registry'), body);
    const url = pathToFileURL(join(dir, 'registry')).href;
    const first = await download({ url, dest: join(dir, 'cache', 'x'), sha256 });
    expect(first).toMatchObject({ sha256, size: 70_000, fetchedBytes: 70_000 });
    expect(await readFile(join(dir, 'cache', 'x'))).toEqual(body);
    const again = await download({ url, dest: join(dir, 'cache', 'x'), sha256 });
    expect(again.fetchedBytes).toBe(0);
  });

  it('refuses a file whose sha256 differs and leaves nothing in the cache', async () => {
    await writeFile(join(dir, 'registry'), 'not the binary');
    const url = pathToFileURL(join(dir, 'registry')).href;
    await expect(download({ url, dest: join(dir, 'cache', 'x'), sha256: '0'.repeat(64) })).rejects.toThrow(VerifyError);
    await expect(readFile(join(dir, 'cache', 'x'))).rejects.toThrow();
    await expect(readFile(join(dir, 'cache', 'x.part'))).rejects.toThrow();
  });

  it('names a missing file as bad input', async () => {
    await expect(download({ url: pathToFileURL(join(dir, 'nope')).href, dest: join(dir, 'cache', 'x') })).rejects.toThrow(UserError);
  });
});
