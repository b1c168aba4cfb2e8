// Test support: a bundle of plain files (kind `file`: what copy-bundle carries to every node besides the OS
// repository) with a valid manifest and the lab's lock, written into `dir`; contents are random, sizes chosen.
// For the seed-copy test and bench, which measure copying, not package installs.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashBytes } from '../../../src/util/hash.ts';
import { labLock } from './lab-bundle.ts';

/** Writes the bundle; returns the files it holds (bundle paths and sizes). */
export async function fileBundle(dir: string, sizes: readonly number[]): Promise<{ path: string; size: number }[]> {
  await mkdir(join(dir, 'files', 'payload'), { recursive: true });
  const artifacts = [];
  for (const [i, size] of sizes.entries()) {
    const path = `files/payload/part-${i}.bin`;
    const data = randomBytes(size);
    await writeFile(join(dir, path), data);
    artifacts.push({ kind: 'file', path, size, sha256: hashBytes(data).sha256, source: 'test' });
  }
  const manifest = { apiVersion: 'ferry.dev/v1alpha1', kind: 'BundleManifest', name: 'seed-copy', createdAt: '2026-11-23T00:00:00Z', platform: 'linux/amd64', documents: [], artifacts };
  await writeFile(join(dir, 'manifest.yaml'), stringify(manifest));
  await writeFile(join(dir, 'ferry.lock.yaml'), stringify(labLock([])));
  return artifacts.map(({ path, size }) => ({ path, size }));
}
