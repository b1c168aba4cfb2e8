// Push primitives of the distribution API, for seeding a registry from a bundle: HEAD a blob, upload it
// monolithically (POST then PUT ?digest=) or in chunks (PATCH with Content-Range), PUT a manifest.
import { createHash } from 'node:crypto';
import { VerifyError } from '../errors.ts';
import type { RegistryClient, RequestBody } from './client.ts';
import type { ImageReference } from './reference.ts';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.ts';

export interface PushOptions {
  retry?: RetryPolicy;
  signal?: AbortSignal;
}

/** True when the repository already has the blob (so an upload can be skipped). */
export async function hasBlob(client: RegistryClient, ref: ImageReference, digest: string): Promise<boolean> {
  const res = await client.request(ref, `blobs/${digest}`, { method: 'HEAD', allow: [404], push: true });
  await res.body?.cancel();
  return res.status !== 404;
}

async function startUpload(client: RegistryClient, ref: ImageReference): Promise<string> {
  const res = await client.request(ref, 'blobs/uploads/', { method: 'POST', push: true, contentLength: 0 });
  await res.body?.cancel();
  const location = res.headers.get('location');
  if (!location) throw new VerifyError([`${ref.registry}/${ref.repository}: upload started without a Location`]);
  return location;
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location, 'http://relative.invalid');
  url.searchParams.set('digest', digest);
  return location.startsWith('/') ? `${url.pathname}${url.search}` : url.href;
}

/** Upload one blob in a single PUT, streaming `open()`; skipped when the registry has it. */
export async function uploadBlob(
  client: RegistryClient,
  ref: ImageReference,
  blob: { digest: string; size: number },
  open: () => RequestBody,
  options: PushOptions = {},
): Promise<'present' | 'uploaded'> {
  if (await hasBlob(client, ref, blob.digest)) return 'present';
  await withRetry(options.retry ?? DEFAULT_RETRY, async () => {
    const location = await startUpload(client, ref);
    const res = await client.request(ref, '', {
      method: 'PUT',
      url: withDigest(location, blob.digest),
      push: true,
      body: open,
      contentType: 'application/octet-stream',
      contentLength: blob.size,
    });
    await res.body?.cancel();
  }, options.signal);
  return 'uploaded';
}

/** Upload one blob as PATCHes of at most `chunkSize` bytes each (for proxies that cap request bodies). */
export async function uploadBlobChunked(
  client: RegistryClient,
  ref: ImageReference,
  blob: { digest: string; size: number },
  openRange: (start: number, end: number) => RequestBody,
  chunkSize: number,
  options: PushOptions = {},
): Promise<'present' | 'uploaded'> {
  if (await hasBlob(client, ref, blob.digest)) return 'present';
  await withRetry(options.retry ?? DEFAULT_RETRY, async () => {
    let location = await startUpload(client, ref);
    for (let start = 0; start < blob.size; start += chunkSize) {
      const end = Math.min(blob.size, start + chunkSize) - 1;
      const res = await client.request(ref, '', {
        method: 'PATCH',
        url: location,
        push: true,
        body: () => openRange(start, end),
        contentType: 'application/octet-stream',
        contentLength: end - start + 1,
        contentRange: `${start}-${end}`,
      });
      await res.body?.cancel();
      location = res.headers.get('location') ?? location;
    }
    const done = await client.request(ref, '', { method: 'PUT', url: withDigest(location, blob.digest), push: true, contentLength: 0 });
    await done.body?.cancel();
  }, options.signal);
  return 'uploaded';
}

/** PUT a manifest under a tag or its digest; returns the digest of the bytes (what the registry must serve). */
export async function putManifest(client: RegistryClient, ref: ImageReference, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const res = await client.request(ref, `manifests/${reference}`, { method: 'PUT', push: true, body: () => bytes, contentType: mediaType, contentLength: bytes.length });
  await res.body?.cancel();
  const claimed = res.headers.get('docker-content-digest');
  if (claimed && claimed !== digest) throw new VerifyError([`${ref.registry}/${ref.repository}:${reference}: registry stored ${claimed}, sent ${digest}`]);
  return digest;
}
