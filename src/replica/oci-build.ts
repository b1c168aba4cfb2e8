// Small real OCI images made with umoci (no Docker): layers added to a layout's tag, and an index over per-arch
// tags. Shared by the test fixtures (test/support/fixture-images.ts) and the upstream replica's seeded images.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** Run umoci with these arguments. */
export async function umoci(...args: string[]): Promise<void> {
  await execa('umoci', args);
}

/** Unpack `from`, add files, repack as `to` (umoci adds one layer on top of `from`'s). */
export async function addLayer(layout: string, work: string, from: string, to: string, files: Record<string, Uint8Array | string>): Promise<void> {
  const bundle = join(work, `bundle-${to}`);
  await umoci('unpack', '--rootless', '--image', `${layout}:${from}`, bundle);
  for (const [path, data] of Object.entries(files)) {
    await mkdir(join(bundle, 'rootfs', path, '..'), { recursive: true });
    await writeFile(join(bundle, 'rootfs', path), data);
  }
  await umoci('repack', '--image', `${layout}:${to}`, bundle);
}

/** Write an OCI index over two tags of the layout (amd64, arm64) and tag it `name`. */
export async function writeIndex(layout: string, name: string, parts: { tag: string; architecture: string; variant?: string }[]): Promise<void> {
  const top = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  const manifests = parts.map((p) => {
    const d = top.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === p.tag);
    if (!d) throw new Error(`no tag ${p.tag} in ${layout}`);
    const { annotations: _, ...descriptor } = d;
    return { ...descriptor, platform: { architecture: p.architecture, os: 'linux', ...(p.variant ? { variant: p.variant } : {}) } };
  });
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(layout, 'blobs/sha256', hex), bytes);
  top.manifests.push({
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: `sha256:${hex}`,
    size: bytes.length,
    annotations: { 'org.opencontainers.image.ref.name': name },
  } as (typeof top.manifests)[number]);
  await writeFile(join(layout, 'index.json'), JSON.stringify(top));
}

