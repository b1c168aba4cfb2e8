// Download one blob into a BlobStore: streamed to `<hex>.partial` with sha256 computed on the way, resumed
// with an HTTP Range request when a partial file is already there, retried on torn streams, and renamed into
// place only when size and digest match.
import { truncate, unlink } from 'node:fs/promises';
import { appendHashed, judgePartial } from '../util/partial-file.ts';
import { HostUnreachableError, VerifyError } from '../errors.ts';
import type { BlobStore } from './blob-store.ts';
import { digestHex, sizeOf } from './blob-store.ts';
import type { RegistryClient } from './client.ts';
import type { ImageReference } from './reference.ts';
import { DEFAULT_RETRY, TransientError, withRetry, type RetryPolicy } from './retry.ts';

export interface BlobDownloadOptions {
  retry?: RetryPolicy;
  signal?: AbortSignal;
  /** Called with the bytes received from the network, as they arrive. */
  onBytes?: (bytes: number) => void;
}

export interface BlobDownloadResult {
  /** Bytes taken from the network for this blob (a resumed download counts only the rest). */
  fetched: number;
  /** Bytes that were already in the partial file and were kept. */
  resumedFrom: number;
}

/** Fetch `digest` (of `size` bytes) from `ref`'s repository into `store`, resuming a partial file. */
export async function downloadBlob(
  client: RegistryClient,
  ref: ImageReference,
  blob: { digest: string; size: number },
  store: BlobStore,
  options: BlobDownloadOptions = {},
): Promise<BlobDownloadResult> {
  const partial = store.partialPath(blob.digest);
  const where = `${ref.registry}/${ref.repository}@${blob.digest}`;
  const result: BlobDownloadResult = { fetched: 0, resumedFrom: 0 };
  await withRetry(options.retry ?? DEFAULT_RETRY, async () => {
    let offset = (await sizeOf(partial)) ?? 0;
    if (offset > blob.size) {
      await truncate(partial, 0);
      offset = 0;
    }
    const res = await client.openBlob(ref, blob.digest, offset);
    if (res.status === 416) {
      // The partial file does not fit what the registry has: start over.
      await res.body?.cancel();
      await truncate(partial, 0);
      throw new TransientError(new HostUnreachableError(ref.registry, `range request refused for ${where}`));
    }
    const resumed = res.status === 206 && offset > 0 && res.headers.get('content-range')?.startsWith(`bytes ${offset}-`) === true;
    if (!resumed) offset = 0;
    const out = await appendHashed({ path: partial, offset, body: res.body as AsyncIterable<Uint8Array>, limit: blob.size, onBytes: (n) => { result.fetched += n; options.onBytes?.(n); } });
    const verdict = judgePartial(out, { size: blob.size, sha256: digestHex(blob.digest) });
    if (verdict === 'long') {
      await unlink(partial);
      throw new TransientError(new VerifyError([`${where}: the registry sent more than ${blob.size} bytes`]));
    }
    if (out.failure !== undefined) {
      if (options.signal?.aborted) throw out.failure;
      throw new TransientError(new HostUnreachableError(ref.registry, `download of ${where} broke off after ${out.size} of ${blob.size} bytes`, { cause: out.failure }));
    }
    if (resumed) result.resumedFrom = offset;
    if (verdict === 'short') {
      throw new TransientError(new HostUnreachableError(ref.registry, `download of ${where} ended after ${out.size} of ${blob.size} bytes`));
    }
    if (verdict === 'digest') {
      await unlink(partial);
      throw new TransientError(new VerifyError([`${where}: downloaded bytes hash to sha256:${out.sha256} (${out.size} bytes); the blob was not kept`]));
    }
    await store.commit(blob.digest);
  }, options.signal);
  return result;
}
