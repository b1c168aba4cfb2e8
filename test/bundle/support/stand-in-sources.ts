// Test support for build orchestration while the images/packages sources are written on their own branches:
// `urlFiles` is a small real file source (download, check sha256 from the .sha256 URL, place under files/);
// `recordingImages` is a STAND-IN for collectImages: it records what it was asked for and writes only an OCI
// index naming the refs (no blobs), strict that every ref is fully qualified.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Artifact, SourceContext } from '../../../src/bundle/artifact.ts';
import type { BundleSources } from '../../../src/bundle/build.ts';
import { hashBytes } from '../../../src/bundle/checksums.ts';
import { fetchText, fetchToFile } from '../../../src/bundle/fetch.ts';
import { BundleLayout } from '../../../src/bundle/layout.ts';

export const urlFiles: NonNullable<BundleSources['files']> = async ({ files }, ctx: SourceContext) => {
  const out: Artifact[] = [];
  for (const f of files) {
    const sha256 = f.sha256 ?? (await fetchText(f.sha256Url!)).trim().split(/\s+/)[0]!;
    const path = BundleLayout.file(f.component, f.version, f.name);
    const got = await fetchToFile(f.url, join(ctx.bundleDir, path), { sha256 });
    if (f.mode !== undefined) await chmod(join(ctx.bundleDir, path), f.mode);
    out.push({ kind: 'file', path, ...got, source: f.url, name: f.name, version: f.version });
  }
  return out;
};

export function recordingImages(calls: Parameters<NonNullable<BundleSources['images']>>[0][]): NonNullable<BundleSources['images']> {
  return async (options, ctx) => {
    for (const img of options.images) if (!/^[a-z0-9.-]+(:\d+)?\/.+[:@]/.test(img.ref)) throw new Error(`stand-in: ref ${img.ref} is not fully qualified`);
    calls.push(options);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [],
        annotations: { 'stand-in.refs': options.images.map((i) => i.ref).join(',') },
      }),
    );
    await mkdir(dirname(join(ctx.bundleDir, BundleLayout.imageIndex)), { recursive: true });
    await writeFile(join(ctx.bundleDir, BundleLayout.imageIndex), index);
    return [{ kind: 'image-index', path: BundleLayout.imageIndex, ...hashBytes(index), source: 'stand-in' }];
  };
}
