// Streaming HTTP download into a cache file: resumes a partial file with Range/If-Range, hashes while it writes,
// verifies the sha256 when it is known, retries a bounded number of times.
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError, VerifyError } from '../../errors.ts';
import { displayUrl } from './mirror.ts';
import { decideResponse, ifRangeValidator } from './range.ts';
import { hashFile } from '../../util/hash.ts';
import { appendHashed, judgePartial, promotePartial } from '../../util/partial-file.ts';

export interface DownloadRequest {
  url: string;
  /** Final path of the file; `<dest>.part` and `<dest>.part.json` hold an unfinished transfer. */
  dest: string;
  sha256?: string;
  /** Attempts after the first one (default 4). */
  retries?: number;
  /** First back-off in ms, doubled per attempt (default 250). */
  backoffMs?: number;
  signal?: AbortSignal;
  /** Called with the number of body bytes received, as they arrive. */
  onBytes?: (bytes: number) => void;
}

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** Body bytes received over the network in this call (0 when the cache already had the file). */
  fetchedBytes: number;
  /** Bytes of a partial file that were kept and not fetched again. */
  resumedFrom: number;
  attempts: number;
}

interface PartMeta {
  url: string;
  etag?: string;
  lastModified?: string;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

async function readMeta(path: string): Promise<PartMeta | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PartMeta;
  } catch {
    return undefined;
  }
}

/** A file:// upstream (a file on the build machine, e.g. Debian's registry binary): copied and verified like a download. */
async function copyLocal(req: DownloadRequest, shown: string): Promise<DownloadResult> {
  const source = fileURLToPath(req.url);
  const part = `${req.dest}.part`;
  try {
    await copyFile(source, part);
  } catch (error) {
    throw new UserError(`cannot read ${shown}: ${(error as NodeJS.ErrnoException).code}`, { hint: 'check the path in the file:// URL' });
  }
  const have = await hashFile(part);
  if (req.sha256 !== undefined && have.sha256 !== req.sha256) {
    await rm(part, { force: true });
    throw new VerifyError([`${shown}: sha256 ${have.sha256}, expected ${req.sha256}`]);
  }
  req.onBytes?.(have.size);
  await rename(part, req.dest);
  return { path: req.dest, ...have, fetchedBytes: have.size, resumedFrom: 0, attempts: 1 };
}

/** Download `url` to `dest` (or reuse it), resuming `<dest>.part` where a previous run stopped. */
export async function download(req: DownloadRequest): Promise<DownloadResult> {
  const shown = displayUrl(req.url);
  const retries = req.retries ?? 4;
  const part = `${req.dest}.part`;
  const metaPath = `${req.dest}.part.json`;
  await mkdir(dirname(req.dest), { recursive: true });

  if ((await sizeOf(req.dest)) !== undefined) {
    const have = await hashFile(req.dest);
    if (req.sha256 === undefined || have.sha256 === req.sha256)
      return { path: req.dest, ...have, fetchedBytes: 0, resumedFrom: have.size, attempts: 0 };
    await rm(req.dest, { force: true });
  }

  if (req.url.startsWith('file://')) return copyLocal(req, shown);

  let fetchedBytes = 0;
  let resumedFrom = 0;
  let lastProblem = '';
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    req.signal?.throwIfAborted();
    if (attempt > 1) await sleep((req.backoffMs ?? 250) * 2 ** (attempt - 2), undefined, { signal: req.signal });
    const meta = await readMeta(metaPath);
    let offset = meta?.url === req.url ? ((await sizeOf(part)) ?? 0) : 0;
    if (offset === 0) await rm(part, { force: true });
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    const validator = meta && offset > 0 ? ifRangeValidator(meta) : undefined;
    if (offset > 0) headers.range = `bytes=${offset}-`;
    if (validator) headers['if-range'] = validator;

    let response: Response;
    try {
      response = await fetch(req.url, { headers, signal: req.signal, redirect: 'follow' });
    } catch (error) {
      if (req.signal?.aborted) throw error;
      lastProblem = (error as Error).cause ? String((error as Error).cause) : String(error);
      continue;
    }
    const decision = decideResponse(offset, response.status, {
      contentRange: response.headers.get('content-range'),
      contentLength: response.headers.get('content-length'),
    });
    if (decision.action === 'fail') {
      await response.body?.cancel();
      throw new UserError(`cannot download ${shown}: ${decision.reason}`, {
        hint: 'check the URL, or point a mirror at a copy that has it',
      });
    }
    if (decision.action === 'retry' || decision.action === 'discard') {
      await response.body?.cancel();
      if (decision.action === 'discard') await rm(part, { force: true });
      lastProblem = decision.action === 'retry' ? decision.reason : 'server refused to resume (416 or wrong range)';
      continue;
    }
    if (decision.action === 'restart') offset = 0;
    else resumedFrom = offset;
    const expectedTotal = decision.total;
    const newMeta: PartMeta = {
      url: req.url,
      etag: response.headers.get('etag') ?? undefined,
      lastModified: response.headers.get('last-modified') ?? undefined,
    };
    await writeFile(metaPath, JSON.stringify(newMeta));

    if (!response.body) {
      lastProblem = 'response has no body';
      continue;
    }
    const out = await appendHashed({ path: part, offset, body: response.body as AsyncIterable<Uint8Array>, ...(req.onBytes ? { onBytes: req.onBytes } : {}) });
    fetchedBytes += out.received;
    if (out.failure !== undefined) {
      if (req.signal?.aborted) throw out.failure;
      lastProblem = `transfer broke after ${out.size} bytes: ${(out.failure as Error).message}`;
      continue;
    }
    const verdict = judgePartial(out, { ...(expectedTotal !== undefined ? { size: expectedTotal } : {}), ...(req.sha256 !== undefined ? { sha256: req.sha256 } : {}) });
    if (verdict === 'short' || verdict === 'long') {
      lastProblem = `got ${out.size} of ${expectedTotal} bytes`;
      continue;
    }
    const { size, sha256 } = out;
    if (verdict === 'digest') {
      await rm(part, { force: true });
      await rm(metaPath, { force: true });
      throw new VerifyError([`${shown}: sha256 mismatch: expected ${req.sha256}, got ${sha256}`], {
        hint: 'the upstream file or the mirror changed, or the lock is wrong; the partial file was removed',
      });
    }
    await promotePartial(part, req.dest);
    await rm(metaPath, { force: true });
    return { path: req.dest, size, sha256, fetchedBytes, resumedFrom, attempts: attempt };
  }
  throw new UserError(`cannot download ${shown} after ${retries + 1} attempts: ${lastProblem}`, {
    hint: 'run the build again: what was fetched is kept and the transfer resumes',
  });
}
