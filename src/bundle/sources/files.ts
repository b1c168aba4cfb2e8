// Plain files for the bundle (Kubernetes binaries, CNI plugins, crictl, runc, containerd, driver installers):
// fetched into the persistent cache with resume, verified by sha256, placed at files/<component>/<version>/<name>.
import { createHash } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
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
    await linkOrCopy(result.path, target);
    if (file.mode !== undefined) await chmod(target, file.mode);
    ctx.progress({
      type: 'finish',
      task,
      detail: result.fetchedBytes === 0 ? 'cached' : result.resumedFrom > 0 ? `resumed at ${result.resumedFrom}` : undefined,
    });
    return {
      kind: 'file',
      path,
      size: result.size,
      sha256: result.sha256,
      source: displayUrl(file.url),
      name: file.name,
      version: file.version,
    } satisfies Artifact;
  });
}
