// Plain files for the bundle (Kubernetes binaries, CNI plugins, crictl, runc, containerd, driver installers):
// fetched into the persistent cache with resume, verified by sha256, placed at files/<component>/<version>/<name>.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { UserError } from '../../errors.ts';
import { hashFile } from '../../util/hash.ts';
import type { Artifact, SourceContext } from '../artifact.ts';
import { linkOrCopy } from '../cache-file.ts';
import { download } from '../http/download.ts';
import { applyMirrors, displayUrl, type Mirror } from '../http/mirror.ts';
import { BundleLayout } from '../layout.ts';
import { mapPool } from '../../util/map-pool.ts';

const PROGRESS_STEP = 1024 * 1024;

export interface FileSpec {
  url: string;
  /** Lowercase hex; when given, the download is verified against it and cached by it. */
  sha256?: string;
  component: string;
  version: string;
  name: string;
  mode?: number;
  /** Carry only this member of the downloaded .tar.gz (the checksum above is the archive's). */
  extract?: string;
}

export interface CollectFilesOptions {
  files: FileSpec[];
  mirrors?: Mirror[];
  retries?: number;
}

/** Where a file lives in the persistent cache: by content when its sha256 is known, else by URL. */
export function cachePathFor(cacheDir: string, file: { url: string; sha256?: string }): string {
  if (file.sha256) return join(cacheDir, 'files', 'sha256', file.sha256.toLowerCase());
  return join(cacheDir, 'files', 'url', createHash('sha256').update(file.url).digest('hex'));
}

/**
 * One member of a verified .tar.gz, written once into the cache (by the archive's sha256 and the member's path) and
 * hashed; a member the archive lacks is a UserError naming what it does hold.
 */
export async function extractMember(archive: string, archiveSha256: string, member: string, cacheDir: string, url: string): Promise<{ path: string; size: number; sha256: string }> {
  const out = join(cacheDir, 'files', 'extract', archiveSha256, member);
  if (!existsSync(out)) {
    const seen: string[] = [];
    let found = false;
    const extract = tarStream.extract();
    await mkdir(dirname(out), { recursive: true });
    const partial = `${out}.partial-${process.pid}`;
    extract.on('entry', (header, stream, next) => {
      const name = header.name.replace(/^\.\//, '');
      seen.push(name);
      if (header.type === 'file' && name === member && !found) {
        found = true;
        pipeline(stream, createWriteStream(partial)).then(() => next(), next);
      } else {
        stream.on('end', () => next());
        stream.resume();
      }
    });
    await pipeline(createReadStream(archive), createGunzip(), extract).catch((error: unknown) => {
      throw new UserError(`${displayUrl(url)}: not a readable .tar.gz (${(error as Error).message})`, { hint: 'check extract: in the bundle spec' });
    });
    if (!found) throw new UserError(`${displayUrl(url)} has no file ${member}; it holds ${seen.slice(0, 10).join(', ')}`, { hint: 'check extract: in the bundle spec' });
    await rename(partial, out);
  }
  return { path: out, ...(await hashFile(out)) };
}

/** Fetch every file (at most ctx.concurrency at once) and place it in the bundle; returns one artifact per file. */
export async function collectFiles(options: CollectFilesOptions, ctx: SourceContext): Promise<Artifact[]> {
  return mapPool(options.files, ctx.concurrency, async (file) => {
    const task = `file ${file.component}/${file.version}/${file.name}`;
    const url = applyMirrors(file.url, options.mirrors);
    let done = 0;
    let reported = 0;
    ctx.progress({ type: 'start', task });
    const result = await download({
      url,
      dest: cachePathFor(ctx.cacheDir, { url, sha256: file.sha256?.toLowerCase() }),
      sha256: file.sha256?.toLowerCase(),
      retries: options.retries,
      signal: ctx.signal,
      onBytes: (n) => {
        done += n;
        // One event per MiB, not per chunk: a large file would otherwise flood the progress display.
        if (done - reported < PROGRESS_STEP) return;
        reported = done;
        ctx.progress({ type: 'advance', task, done });
      },
    });
    const path = BundleLayout.file(file.component, file.version, file.name);
    const target = join(ctx.bundleDir, path);
    const carried = file.extract ? await extractMember(result.path, result.sha256, file.extract, ctx.cacheDir, url) : result;
    await linkOrCopy(carried.path, target);
    if (file.mode !== undefined) await chmod(target, file.mode);
    ctx.progress({
      type: 'finish',
      task,
      detail: result.fetchedBytes === 0 ? 'cached' : result.resumedFrom > 0 ? `resumed at ${result.resumedFrom}` : undefined,
    });
    return {
      kind: 'file',
      path,
      size: carried.size,
      sha256: carried.sha256,
      source: file.extract ? `${displayUrl(file.url)} (${file.extract})` : displayUrl(file.url),
      name: file.name,
      version: file.version,
    } satisfies Artifact;
  });
}
