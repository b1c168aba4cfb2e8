// Download one blob into a BlobStore: streamed to `<hex>.partial` with sha256 computed on the way, resumed
// with an HTTP Range request when a partial file is already there, retried on torn streams, and renamed into
// place only when size and digest match.
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { truncate, unlink } from 'node:fs/promises';
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

/** Bytes buffered towards the partial file before the network read waits for the disk. */
const WRITE_BUFFER = 1024 * 1024;

async function hashExisting(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
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
    const hash = createHash('sha256');
    if (resumed) await hashExisting(partial, hash);
    else offset = 0;
    let received = 0;
    // Written through a stream so disk writes overlap the network, waiting on drain so memory stays flat; on a
    // break the stream is ended, not destroyed, so whatever arrived is on disk for the Range resume.
    const file = createWriteStream(partial, { flags: resumed ? 'a' : 'w', highWaterMark: WRITE_BUFFER });
    const closed = new Promise<void>((resolve, reject) => file.once('close', resolve).once('error', reject));
    let failure: unknown;
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        received += chunk.length;
        result.fetched += chunk.length;
        options.onBytes?.(chunk.length);
        if (offset + received > blob.size) {
          failure = new VerifyError([`${where}: the registry sent more than ${blob.size} bytes`]);
          break;
        }
        hash.update(chunk);
        if (!file.write(chunk)) await once(file, 'drain');
      }
    } catch (error) {
      failure = error;
    }
    file.end();
    await closed;
    if (failure instanceof VerifyError) {
      await unlink(partial);
      throw new TransientError(failure);
    }
    if (failure !== undefined) {
      if (options.signal?.aborted) throw failure;
      throw new TransientError(new HostUnreachableError(ref.registry, `download of ${where} broke off after ${offset + received} of ${blob.size} bytes`, { cause: failure }));
    }
    if (resumed) result.resumedFrom = offset;
    const total = offset + received;
    const got = hash.digest('hex');
    if (total < blob.size) {
      throw new TransientError(new HostUnreachableError(ref.registry, `download of ${where} ended after ${total} of ${blob.size} bytes`));
    }
    if (got !== digestHex(blob.digest)) {
      await unlink(partial);
      throw new TransientError(new VerifyError([`${where}: downloaded bytes hash to sha256:${got} (${total} bytes); the blob was not kept`]));
    }
    await store.commit(blob.digest);
  }, options.signal);
  return result;
}
