// The bundle's Kubernetes manifests (CNI, GPU): fetched once into the cache, image references rewritten to the
// cluster's local registry, written under manifests/. Also reports the images they use, so the bundle carries them.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Artifact, SourceContext } from './artifact.ts';
import { download } from './http/download.ts';
import { BundleLayout } from './layout.ts';
import type { PlannedManifest } from './plan.ts';
import { rewriteManifestImages } from './rewrite.ts';
import { hashBytes } from '../util/hash.ts';
import { UserError } from '../errors.ts';

/** Fetches (or reuses from the cache, checked by sha256) and rewrites every planned manifest. */
export async function collectManifests(
  manifests: readonly PlannedManifest[],
  localRegistry: string,
  ctx: SourceContext,
): Promise<{ artifacts: Artifact[]; images: string[] }> {
  const artifacts: Artifact[] = [];
  const images = new Set<string>();
  ctx.progress({ type: 'start', task: 'manifests', total: manifests.length });
  for (const [i, m] of manifests.entries()) {
    const cached = join(ctx.cacheDir, 'manifests', createHash('sha256').update(m.url).digest('hex'));
    // download() reuses the cached copy (checked against sha256 when the spec gives one) or resumes a partial one.
    try {
      await download({ url: m.url, dest: cached, sha256: m.sha256, signal: ctx.signal });
    } catch (error) {
      // A partial build leaves out a manifest its upstream does not have, and says so; a full build stops.
      if (!ctx.leftOut || !(error instanceof UserError)) throw error;
      ctx.leftOut.push(`manifest ${m.component}/${m.name}: ${error.message.split('\n')[0]}`);
      continue;
    }
    const original = await readFile(cached);
    const rewritten = rewriteManifestImages(original.toString('utf8'), localRegistry);
    rewritten.images.forEach((img) => images.add(img));
    const path = BundleLayout.k8sManifest(m.component, m.version, m.name);
    const bytes = Buffer.from(rewritten.text);
    await mkdir(dirname(join(ctx.bundleDir, path)), { recursive: true });
    await writeFile(join(ctx.bundleDir, path), bytes);
    artifacts.push({ kind: 'manifest', path, ...hashBytes(bytes), source: m.url, name: m.name, version: m.version });
    ctx.progress({ type: 'advance', task: 'manifests', done: i + 1, total: manifests.length });
  }
  ctx.progress({ type: 'finish', task: 'manifests', detail: `${artifacts.length} manifests, ${images.size} images` });
  return { artifacts, images: [...images] };
}
