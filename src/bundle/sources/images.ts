// Container images for `ferry bundle build`: every image of the lock and spec, for the locked platform, into
// ONE OCI image layout under the bundle (images/), each blob stored once. Blobs land first in the persistent
// content-addressed cache (resumable, verified while streaming), then are hard-linked (or copied) into the bundle.
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { UserError } from '../../errors.ts';
import { downloadBlob } from '../../registry-client/blob-download.ts';
import { BlobStore, digestHex, sizeOf } from '../../registry-client/blob-store.ts';
import { RegistryClient, type Credentials } from '../../registry-client/client.ts';
import { parsePlatform, type Platform } from '../../registry-client/manifest.ts';
import { formatImageReference, parseImageReference, type ImageReference } from '../../registry-client/reference.ts';
import { resolveImage, type ResolvedImage } from '../../registry-client/resolve-image.ts';
import type { RetryPolicy } from '../../registry-client/retry.ts';
import type { Artifact, SourceContext } from '../artifact.ts';
import { BundleLayout } from '../layout.ts';
import { ociIndexFile, ociLayoutFile, type LayoutImage } from './oci-layout.ts';

export interface CollectImagesOptions {
  images: { ref: string; critical?: boolean }[];
  /** The lock's platform, e.g. linux/amd64: the only one kept from multi-platform indexes. */
  platform: string;
  /** Registry host → mirror base URL (a path in it prefixes the repository). */
  mirrors?: Record<string, string>;
  credentials?: Record<string, Credentials>;
  /** Registry hosts spoken to over plain http. */
  insecureRegistries?: string[];
  retry?: RetryPolicy;
}

interface BlobJob {
  digest: string;
  size: number;
  /** An image that holds it, to fetch it from and to name it by. */
  ref: ImageReference;
}

const TASK = 'images';
const PROGRESS_STEP = 1024 * 1024;

/** Capture every image into the bundle's OCI layout; returns one Artifact per file written. */
export async function collectImages(options: CollectImagesOptions, ctx: SourceContext): Promise<Artifact[]> {
  const platform = parsePlatform(options.platform);
  const refs = uniqueRefs(options.images.map((i) => i.ref));
  const critical = new Set(options.images.filter((i) => i.critical).map((i) => formatImageReference(parseImageReference(i.ref))));
  // The first failure stops the other transfers (their partial files stay for the next build).
  const stop = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
  const client = new RegistryClient({
    ...(options.mirrors ? { mirrors: options.mirrors } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.insecureRegistries ? { insecureRegistries: options.insecureRegistries } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    signal,
  });
  const store = new BlobStore(join(ctx.cacheDir, 'blobs'));
  await store.prepare();
  const limit = pLimit(Math.max(1, ctx.concurrency));

  ctx.progress({ type: 'start', task: `${TASK}:manifests`, total: refs.length });
  let resolvedCount = 0;
  const resolved = await allOrStop(
    stop,
    refs.map((ref) =>
      limit(async () => {
        const image = await resolveImage(client, ref, platform);
        await saveManifests(store, image);
        ctx.progress({ type: 'advance', task: `${TASK}:manifests`, done: ++resolvedCount, total: refs.length });
        return image;
      }),
    ),
  );
  ctx.progress({ type: 'finish', task: `${TASK}:manifests` });

  const jobs = new Map<string, BlobJob>();
  for (const image of resolved) {
    for (const d of [image.config, ...image.layers]) if (!jobs.has(d.digest)) jobs.set(d.digest, { digest: d.digest, size: d.size, ref: image.ref });
  }
  const total = [...jobs.values()].reduce((sum, j) => sum + j.size, 0);
  let done = 0;
  let reported = 0;
  let fetched = 0;
  let reused = 0;
  ctx.progress({ type: 'start', task: `${TASK}:blobs`, total });
  await allOrStop(
    stop,
    [...jobs.values()].map((job) =>
      limit(async () => {
        if (await store.hasVerified(job.digest, job.size)) {
          reused++;
          done += job.size;
        } else {
          const r = await downloadBlob(client, job.ref, job, store, {
            ...(options.retry ? { retry: options.retry } : {}),
            signal,
            onBytes: (n) => {
              done = Math.min(total, done + n);
              // One event per MiB or so, not per network chunk.
              if (done - reported >= PROGRESS_STEP) {
                reported = done;
                ctx.progress({ type: 'advance', task: `${TASK}:blobs`, done, total });
              }
            },
          });
          fetched += r.fetched;
          done = Math.min(total, done + r.resumedFrom);
        }
        ctx.progress({ type: 'advance', task: `${TASK}:blobs`, done, total });
      }),
    ),
  );
  ctx.progress({ type: 'finish', task: `${TASK}:blobs`, detail: `${jobs.size} blobs, ${reused} from cache, ${fetched} bytes fetched` });

  for (const image of resolved) if (!image.platform) await checkConfigPlatform(store, image, platform);
  return writeLayout(resolved, critical, store, ctx, limit);
}

/** Promise.all that aborts `stop` when one fails, so the others do not run on behind the error. */
async function allOrStop<T>(stop: AbortController, work: Promise<T>[]): Promise<T[]> {
  try {
    return await Promise.all(work);
  } catch (error) {
    stop.abort();
    throw error;
  }
}

function uniqueRefs(refs: readonly string[]): ImageReference[] {
  const seen = new Map<string, ImageReference>();
  for (const text of refs) {
    const ref = parseImageReference(text);
    seen.set(formatImageReference(ref), ref);
  }
  return [...seen.values()];
}

/** Put fetched manifest bytes into the cache (their digest was computed from these very bytes). */
async function saveManifests(store: BlobStore, image: ResolvedImage): Promise<void> {
  for (const doc of image.index ? [image.index, image.manifest] : [image.manifest]) {
    if ((await sizeOf(store.path(doc.digest))) === doc.bytes.length) continue;
    await writeFile(store.partialPath(doc.digest), doc.bytes);
    await store.commit(doc.digest);
  }
}

/** A single-platform image must still be for the locked platform. */
async function checkConfigPlatform(store: BlobStore, image: ResolvedImage, want: Platform): Promise<void> {
  const config = JSON.parse(await readFile(store.path(image.config.digest), 'utf8')) as { os?: string; architecture?: string };
  if (config.os !== undefined && config.architecture !== undefined && (config.os !== want.os || config.architecture !== want.architecture)) {
    throw new UserError(`${formatImageReference(image.ref)} is built for ${config.os}/${config.architecture}, not ${want.os}/${want.architecture}`, {
      hint: 'pick a tag built for the locked platform',
    });
  }
}

/** Hard-link a cached blob into the bundle (copy across file systems), replacing whatever was there. */
async function placeBlob(from: string, to: string): Promise<void> {
  await unlink(to).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await link(from, to).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EXDEV' && error.code !== 'EPERM' && error.code !== 'EMLINK') throw error;
    await copyFile(from, to);
  });
}

async function writeLayout(resolved: ResolvedImage[], critical: ReadonlySet<string>, store: BlobStore, ctx: SourceContext, limit: ReturnType<typeof pLimit>): Promise<Artifact[]> {
  const artifacts = new Map<string, Artifact>();
  const add = (digest: string, size: number, fields: Omit<Artifact, 'path' | 'size' | 'sha256'>) => {
    const hex = digestHex(digest);
    const path = BundleLayout.imageBlob(hex);
    if (!artifacts.has(path)) artifacts.set(path, { ...fields, path, size, sha256: hex });
  };
  for (const image of resolved) {
    const name = formatImageReference(image.ref);
    const source = `${image.ref.registry}/${image.ref.repository}`;
    add(image.manifest.digest, image.manifest.bytes.length, {
      kind: 'image-index',
      source: name,
      name,
      ...(image.ref.tag ? { version: image.ref.tag } : {}),
      ...(image.platform ? { arch: image.platform.architecture } : {}),
      digest: image.manifest.digest,
    });
    if (image.index) add(image.index.digest, image.index.bytes.length, { kind: 'image-blob', source: name, name, digest: image.index.digest });
    for (const d of [image.config, ...image.layers]) add(d.digest, d.size, { kind: 'image-blob', source: `${source}@${d.digest}` });
  }
  await mkdir(join(ctx.bundleDir, dirname(BundleLayout.imageBlob('x'))), { recursive: true });
  await Promise.all(
    [...artifacts.values()].map((a) => limit(() => placeBlob(store.path(`sha256:${a.sha256}`), join(ctx.bundleDir, a.path)))),
  );
  const images: LayoutImage[] = resolved.map((image) => ({
    name: formatImageReference(image.ref),
    manifest: { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.bytes.length },
    ...(image.platform ? { platform: image.platform } : {}),
    ...(image.index ? { indexDigest: image.index.digest } : {}),
    ...(critical.has(formatImageReference(image.ref)) ? { critical: true } : {}),
  }));
  const files: [string, string][] = [
    [BundleLayout.imageLayoutMarker, ociLayoutFile()],
    [BundleLayout.imageIndex, ociIndexFile(images)],
  ];
  const out = [...artifacts.values()];
  for (const [path, text] of files) {
    await writeFile(join(ctx.bundleDir, path), text);
    out.push({ kind: 'image-index', path, size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex'), source: 'ferry' });
  }
  return out;
}
