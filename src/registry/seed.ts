// Seeding: push the bundle's OCI layout to every local registry replica, blobs in parallel, skipping those a
// HEAD (or a cross-repository mount) finds, then manifests by digest and tags, then a check that every
// manifest resolves by digest on every replica.
import pLimit from 'p-limit';
import { VerifyError } from '../errors.ts';
import type { RegistryClient } from '../registry-client/client.ts';
import { hasBlob, putManifest, uploadBlob } from '../registry-client/push.ts';
import type { ImageReference } from '../registry-client/reference.ts';
import type { RetryPolicy } from '../registry-client/retry.ts';
import { layoutBlobProblem, readLayoutManifest, verifiedBlobStream } from './layout-files.ts';
import type { PlannedImage } from './layout-plan.ts';

export interface SeedOptions {
  /** Parallel blob transfers per replica (default 8). */
  concurrency?: number;
  retry?: RetryPolicy;
  signal?: AbortSignal;
}

export interface SeedReport {
  replica: string;
  uploaded: number;
  present: number;
  mounted: number;
  bytesUploaded: number;
  manifests: number;
  ms: number;
}

/** Push every image of the plan to one replica (`host:port`); idempotent, so it also serves `sync`. */
export async function seedReplica(client: RegistryClient, replica: string, layout: string, plan: readonly PlannedImage[], options: SeedOptions = {}): Promise<SeedReport> {
  const started = performance.now();
  const limit = pLimit(options.concurrency ?? 8);
  const report: SeedReport = { replica, uploaded: 0, present: 0, mounted: 0, bytesUploaded: 0, manifests: 0, ms: 0 };
  // A blob goes up once; other repositories that need it mount it from the first one.
  const firstHome = new Map<string, Promise<string>>();
  const pushBlob = async (repository: string, blob: { digest: string; size: number }) => {
    const ref: ImageReference = { registry: replica, repository };
    const home = firstHome.get(blob.digest);
    if (home) {
      const from = await home;
      if (from === repository || (await mountBlob(client, ref, blob.digest, from))) {
        report.mounted += from === repository ? 0 : 1;
        return;
      }
    }
    let damaged: VerifyError | undefined;
    const open = () => verifiedBlobStream(layout, blob, (e) => (damaged = e));
    const done = uploadBlob(client, ref, blob, open, { ...(options.retry ? { retry: options.retry } : {}), ...(options.signal ? { signal: options.signal } : {}) }).then((how) => {
      if (how === 'present') report.present++;
      else {
        report.uploaded++;
        report.bytesUploaded += blob.size;
      }
      return repository;
    }, async (error: unknown) => {
      // The registry may refuse the digest before the stream reaches its end: hash the bundle's copy to tell.
      throw damaged ?? (await layoutBlobProblem(layout, blob)) ?? error;
    });
    if (!home) firstHome.set(blob.digest, done);
    await done;
  };
  // Images in order, blobs of each in parallel: a later image's shared blobs then mount instead of uploading.
  const blobJobs: Promise<void>[] = [];
  for (const image of plan) for (const blob of image.blobs) blobJobs.push(limit(() => pushBlob(image.repository, blob)));
  await Promise.all(blobJobs);
  await Promise.all(
    plan.map((image) =>
      limit(async () => {
        const ref: ImageReference = { registry: replica, repository: image.repository };
        for (const m of image.manifests) {
          await putManifest(client, ref, m.digest, readLayoutManifest(layout, m.digest), m.mediaType);
          report.manifests++;
        }
        const top = image.manifests.at(-1)!;
        if (image.tag !== undefined) await putManifest(client, ref, image.tag, readLayoutManifest(layout, top.digest), top.mediaType);
      }),
    ),
  );
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** `POST …/blobs/uploads/?mount=&from=`: 201 means the registry linked the blob into this repository. */
async function mountBlob(client: RegistryClient, ref: ImageReference, digest: string, from: string): Promise<boolean> {
  const query = new URLSearchParams({ mount: digest, from });
  const res = await client.request(ref, `blobs/uploads/?${query}`, { method: 'POST', push: true, contentLength: 0, allow: [202] });
  await res.body?.cancel();
  if (res.status === 201) return true;
  // 202: the registry opened an upload instead; it expires unused (uploadpurging). Check before uploading.
  return hasBlob(client, ref, digest);
}

/** After seeding: every manifest of every image resolves by digest (and tag) on every replica, or VerifyError. */
export async function checkResolvable(client: RegistryClient, replicas: readonly string[], plan: readonly PlannedImage[]): Promise<void> {
  const problems: string[] = [];
  await Promise.all(
    replicas.flatMap((replica) =>
      plan.map(async (image) => {
        const ref: ImageReference = { registry: replica, repository: image.repository };
        const selectors = [...image.manifests.map((m) => m.digest), ...(image.tag === undefined ? [] : [image.tag])];
        for (const selector of selectors) {
          try {
            const got = await client.getManifest(ref, selector);
            if (selector === image.tag && got.digest !== image.digest) problems.push(`${replica}/${image.repository}:${image.tag} resolves to ${got.digest}, the bundle has ${image.digest}`);
          } catch (error) {
            problems.push(`${replica}/${image.repository}@${selector}: ${(error as Error).message}`);
          }
        }
      }),
    ),
  );
  if (problems.length) throw new VerifyError(problems.sort());
}
