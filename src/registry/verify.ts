// `ferry registry verify`: every bundle image resolvable by digest on every replica, and every blob the
// replica serves hashing to its digest (a single flipped byte on one replica's disk is found), in parallel.
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import type { RegistryClient } from '../registry-client/client.ts';
import type { ImageReference } from '../registry-client/reference.ts';
import type { PlannedImage } from './layout-plan.ts';

export interface ReplicaFinding {
  replica: string;
  /** What was checked: `repo@digest` for a manifest, `repo@digest (blob)` for a blob. */
  subject: string;
  ok: boolean;
  message: string;
}

export interface VerifyOptions {
  concurrency?: number;
}

/** Checks one replica against the plan; returns one finding per manifest and per blob (failures first). */
export async function verifyReplica(client: RegistryClient, replica: string, plan: readonly PlannedImage[], options: VerifyOptions = {}): Promise<ReplicaFinding[]> {
  const limit = pLimit(options.concurrency ?? 8);
  const hashed = new Map<string, Promise<ReplicaFinding>>();
  const jobs: Promise<ReplicaFinding>[] = [];
  for (const image of plan) {
    const ref: ImageReference = { registry: replica, repository: image.repository };
    for (const m of image.manifests) jobs.push(limit(() => checkManifest(client, replica, ref, m.digest)));
    for (const blob of image.blobs) {
      // Blobs are stored once per registry whatever the repository: hash each once.
      if (!hashed.has(blob.digest)) hashed.set(blob.digest, limit(() => checkBlob(client, replica, ref, blob)));
    }
  }
  const findings = await Promise.all([...jobs, ...hashed.values()]);
  return findings.sort((a, b) => Number(a.ok) - Number(b.ok) || a.subject.localeCompare(b.subject));
}

async function checkManifest(client: RegistryClient, replica: string, ref: ImageReference, digest: string): Promise<ReplicaFinding> {
  const subject = `${ref.repository}@${digest}`;
  try {
    await client.getManifest(ref, digest);
    return { replica, subject, ok: true, message: 'manifest resolves by digest' };
  } catch (error) {
    return { replica, subject, ok: false, message: `manifest does not resolve: ${(error as Error).message}` };
  }
}

async function checkBlob(client: RegistryClient, replica: string, ref: ImageReference, blob: { digest: string; size: number }): Promise<ReplicaFinding> {
  const subject = `${ref.repository}@${blob.digest} (blob)`;
  try {
    const res = await client.openBlob(ref, blob.digest, 0);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of res.body ?? []) {
      hash.update(chunk);
      size += chunk.length;
    }
    const got = `sha256:${hash.digest('hex')}`;
    if (got === blob.digest && size === blob.size) return { replica, subject, ok: true, message: `${size} bytes, digest matches` };
    return { replica, subject, ok: false, message: `serves ${size} bytes hashing to ${got}; the bundle has ${blob.size} bytes ${blob.digest} (tampered or damaged on disk)` };
  } catch (error) {
    return { replica, subject, ok: false, message: `blob cannot be read: ${(error as Error).message}` };
  }
}
