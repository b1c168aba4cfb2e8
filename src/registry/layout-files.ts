// Reading the bundle's OCI layout from disk for the seeder: the push plan, and blob streams that are hashed as
// they are read so a damaged bundle is caught before a registry stores the bytes.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VerifyError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { planLayout, type PlannedImage } from './layout-plan.ts';

/** Path of a blob inside an OCI layout. */
export function layoutBlobPath(layout: string, digest: string): string {
  return join(layout, 'blobs', ...digest.split(':'));
}

/** Manifest bytes from the layout, checked against their digest. */
export function readLayoutManifest(layout: string, digest: string): Buffer {
  return checkedManifest(layout, digest, readFileSync(layoutBlobPath(layout, digest)));
}

function checkedManifest(layout: string, digest: string, bytes: Buffer): Buffer {
  const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (got !== digest) throw new VerifyError([`${layoutBlobPath(layout, digest)}: hashes to ${got}, named ${digest}`]);
  return bytes;
}

/** Reads a file of the layout: from this machine's disk, or through a Host (a phase's observe reads the admin host). */
export type LayoutReader = Pick<Host, 'readFile'>;

const LOCAL_DISK: LayoutReader = { readFile: (path) => readFile(path) };

/**
 * The push plan for the layout at `layout` (the bundle's images/ directory), read from this machine's disk or,
 * given `via`, through that host (phases read the admin host's bundle through the admin Host, never with node:fs).
 */
export async function readLayoutPlan(layout: string, via: LayoutReader = LOCAL_DISK): Promise<PlannedImage[]> {
  const index = (await via.readFile(join(layout, 'index.json'))).toString('utf8');
  return planLayout(index, async (digest) => checkedManifest(layout, digest, await via.readFile(layoutBlobPath(layout, digest))));
}

/**
 * Streams a blob from the layout, hashing as it goes; the stream fails at its end when size or digest differ, and
 * hands the error to `onDamage` first (an HTTP client reports a failed request body as a network error).
 */
export async function* verifiedBlobStream(layout: string, blob: { digest: string; size: number }, onDamage?: (error: VerifyError) => void): AsyncGenerator<Uint8Array> {
  const path = layoutBlobPath(layout, blob.digest);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== blob.digest || size !== blob.size) {
    const error = new VerifyError([`${path}: ${size} bytes hashing to ${got}, the manifest says ${blob.size} bytes ${blob.digest}`], {
      hint: 'the bundle is damaged: run ferry bundle verify, and copy the bundle again',
    });
    onDamage?.(error);
    throw error;
  }
}

/** Hashes a layout blob; the VerifyError when it does not match its descriptor, else undefined. */
export async function layoutBlobProblem(layout: string, blob: { digest: string; size: number }): Promise<VerifyError | undefined> {
  try {
    for await (const _ of verifiedBlobStream(layout, blob));
    return undefined;
  } catch (error) {
    if (error instanceof VerifyError) return error;
    throw error;
  }
}
