// collectImages against a real distribution registry on loopback, with fixture images built by umoci and
// pushed by skopeo: the layout must hold the registry's exact bytes, once each, and skopeo must accept it.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent, SourceContext } from '../../src/bundle/artifact.ts';
import { collectImages } from '../../src/bundle/sources/images.ts';
import { CRITICAL, REF_NAME, UPSTREAM_INDEX_DIGEST } from '../../src/bundle/sources/oci-layout.ts';
import { FIXTURES, pushFixtures, rawManifest } from '../support/fixture-images.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface IndexJson {
  manifests: { mediaType: string; digest: string; size: number; platform?: { architecture: string }; annotations: Record<string, string> }[];
}

describe('collectImages into one OCI layout', { timeout: 60_000 }, () => {
  let work: string;
  let registry: RunningRegistry;
  let ctx: SourceContext;
  let events: ProgressEvent[];
  const refs = () => Object.values(FIXTURES).map((r) => `${registry.host}/${r}`);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-images-'));
    registry = await startRegistry(join(work, 'registry'));
    await pushFixtures(join(work, 'fixtures'), { host: registry.host });
    events = [];
    ctx = { bundleDir: join(work, 'bundle'), cacheDir: join(work, 'cache'), concurrency: 4, progress: (e) => events.push(e) };
    await collectImages({ images: refs().map((ref) => ({ ref, critical: ref.endsWith(FIXTURES.multi) })), platform: 'linux/amd64', insecureRegistries: [registry.host] }, ctx);
  }, 120_000);

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const index = async () => JSON.parse(await readFile(join(ctx.bundleDir, 'images/index.json'), 'utf8')) as IndexJson;
  const blob = (digest: string) => join(ctx.bundleDir, 'images/blobs/sha256', digest.slice(7));

  it('names every image by its full original reference in index.json, and marks the critical ones', async () => {
    const names = (await index()).manifests.map((m) => m.annotations[REF_NAME]).sort();
    expect(names).toEqual(refs().sort());
    const critical = (await index()).manifests.filter((m) => m.annotations[CRITICAL] === 'true').map((m) => m.annotations[REF_NAME]);
    expect(critical).toEqual([`${registry.host}/${FIXTURES.multi}`]);
    expect(JSON.parse(await readFile(join(ctx.bundleDir, 'images/oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
  });

  it('keeps each single-platform manifest byte for byte as the registry serves it (OCI and Docker schema 2)', async () => {
    for (const name of ['app-a', 'app-b', 'app-c'] as const) {
      const raw = await rawManifest(registry.host, FIXTURES[name]);
      const entry = (await index()).manifests.find((m) => m.annotations[REF_NAME] === `${registry.host}/${FIXTURES[name]}`)!;
      expect(entry.digest).toBe(sha(raw));
      expect(await readFile(blob(entry.digest))).toEqual(raw);
    }
    const docker = (await index()).manifests.find((m) => m.annotations[REF_NAME]!.endsWith(FIXTURES['app-c']))!;
    expect(docker.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
  });

  it.each(['multi', 'multi-docker'] as const)(
    'keeps only the amd64 manifest of the %s index, with its upstream digest, and the index digest as an annotation',
    async (name) => {
      const rawIndex = await rawManifest(registry.host, FIXTURES[name]);
      const upstream = JSON.parse(rawIndex.toString()) as IndexJson & { mediaType: string };
      expect(upstream.mediaType).toBe(name === 'multi' ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.docker.distribution.manifest.list.v2+json');
      const amd64 = upstream.manifests.find((m) => m.platform?.architecture === 'amd64')!;
      const arm64 = upstream.manifests.find((m) => m.platform?.architecture === 'arm64')!;
      const entry = (await index()).manifests.find((m) => m.annotations[REF_NAME] === `${registry.host}/${FIXTURES[name]}`)!;
      expect(entry.digest).toBe(amd64.digest);
      expect(entry.mediaType).toBe(amd64.mediaType);
      expect(entry.platform?.architecture).toBe('amd64');
      expect(entry.annotations[UPSTREAM_INDEX_DIGEST]).toBe(sha(rawIndex));
      expect(await readFile(blob(sha(rawIndex)))).toEqual(rawIndex);
      expect(sha(await readFile(blob(entry.digest)))).toBe(amd64.digest);
      await expect(stat(blob(arm64.digest))).rejects.toThrow(/ENOENT/);
      const armManifest = JSON.parse((await rawManifest(registry.host, `${FIXTURES[name].split(':')[0]}@${arm64.digest}`)).toString());
      const armOnly = armManifest.layers.at(-1).digest as string;
      await expect(stat(blob(armOnly))).rejects.toThrow(/ENOENT/);
    },
  );

  it('stores every blob once: shared base layers appear a single time, and every blob hashes to its name', async () => {
    const files = await readdir(join(ctx.bundleDir, 'images/blobs/sha256'));
    const wanted = new Set<string>();
    let perImageBytes = 0;
    for (const m of (await index()).manifests) {
      const doc = JSON.parse(await readFile(blob(m.digest), 'utf8'));
      wanted.add(m.digest);
      if (m.annotations[UPSTREAM_INDEX_DIGEST]) wanted.add(m.annotations[UPSTREAM_INDEX_DIGEST]);
      for (const d of [doc.config, ...doc.layers]) {
        wanted.add(d.digest);
        perImageBytes += d.size;
      }
    }
    expect(files.sort()).toEqual([...wanted].map((d) => d.slice(7)).sort());
    for (const f of files) expect(sha(await readFile(join(ctx.bundleDir, 'images/blobs/sha256', f)))).toBe(`sha256:${f}`);
    const a = JSON.parse((await rawManifest(registry.host, FIXTURES['app-a'])).toString());
    const b = JSON.parse((await rawManifest(registry.host, FIXTURES['app-b'])).toString());
    expect(b.layers[0].digest).toBe(a.layers[0].digest);
    expect(files).toContain(a.layers[0].digest.slice(7));
    let onDisk = 0;
    for (const f of files) onDisk += (await stat(join(ctx.bundleDir, 'images/blobs/sha256', f))).size;
    expect(onDisk).toBeLessThan(perImageBytes);
  });

  it('hard-links bundle blobs to the persistent cache rather than copying them', async () => {
    const [first] = await readdir(join(ctx.bundleDir, 'images/blobs/sha256'));
    const inBundle = await stat(join(ctx.bundleDir, 'images/blobs/sha256', first!));
    const inCache = await stat(join(ctx.cacheDir, 'blobs/sha256', first!));
    expect(inBundle.ino).toBe(inCache.ino);
  });

  it('reports progress for manifests and blobs', () => {
    const finish = events.filter((e) => e.type === 'finish').map((e) => e.task);
    expect(finish).toEqual(['images:manifests', 'images:blobs']);
    const last = events.filter((e) => e.type === 'advance' && e.task === 'images:blobs').at(-1);
    expect(last?.type === 'advance' && last.done).toBe(last?.type === 'advance' ? last.total : -1);
  });

  it('is accepted by skopeo inspect oci: for every OCI-typed reference, with the same digests', async () => {
    const oci = (await index()).manifests.filter((m) => m.mediaType === 'application/vnd.oci.image.manifest.v1+json');
    expect(oci.length).toBe(3);
    for (const m of oci) {
      const at = `oci:${join(ctx.bundleDir, 'images')}:${m.annotations[REF_NAME]}`;
      const { stdout } = await execa('skopeo', ['inspect', '--raw', at], { encoding: 'buffer', stripFinalNewline: false });
      expect({ ref: m.annotations[REF_NAME], digest: sha(Buffer.from(stdout)) }).toEqual({ ref: m.annotations[REF_NAME], digest: m.digest });
      const { stdout: info } = await execa('skopeo', ['inspect', at]);
      expect(JSON.parse(info)).toMatchObject({ Digest: m.digest, Architecture: 'amd64', Os: 'linux' });
    }
  });

  it('keeps Docker schema 2 entries as they are, which skopeo 1.9 oci: does not list (containerd does: see images-containerd test)', async () => {
    // containers/image's OCI layout reader only looks at entries typed as OCI manifests or indexes; converting
    // the manifest to OCI would change its digest, so ferry keeps the registry's bytes and media type.
    const docker = (await index()).manifests.find((m) => m.mediaType === 'application/vnd.docker.distribution.manifest.v2+json')!;
    const result = await execa('skopeo', ['inspect', '--raw', `oci:${join(ctx.bundleDir, 'images')}:${docker.annotations[REF_NAME]}`], { reject: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/no descriptor found/);
  });
});
