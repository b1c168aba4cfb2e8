// Push primitives against a real registry: copy the bundle layout's images into an empty registry (one blob
// in chunks, the rest monolithic, behind token auth so the push scope is asked for), then check the registry
// serves the very same manifest bytes and that ferry pulls the same digests back.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImages } from '../../src/bundle/sources/images.ts';
import { REF_NAME } from '../../src/bundle/sources/oci-layout.ts';
import { RegistryClient } from '../../src/registry-client/client.ts';
import { hasBlob, putManifest, uploadBlob, uploadBlobChunked } from '../../src/registry-client/push.ts';
import { parseImageReference } from '../../src/registry-client/reference.ts';
import { FIXTURES, pushFixtures, rawManifest } from '../support/fixture-images.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { startTokenServer, type TokenServer } from '../support/token-server.ts';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const USER = 'seeder';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;
const stream = (path: string, start?: number, end?: number) => Readable.toWeb(createReadStream(path, { start, end })) as ReadableStream<Uint8Array>;

describe('push primitives', { timeout: 60_000 }, () => {
  let work: string;
  let source: RunningRegistry;
  let target: RunningRegistry;
  let tokens: TokenServer;
  let layout: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-push-'));
    source = await startRegistry(join(work, 'source'));
    await pushFixtures(join(work, 'fixtures'), { host: source.host, only: ['app-a', 'app-b', 'multi'] });
    tokens = await startTokenServer(work, { username: USER, password: PASSWORD, publicRepositories: [] });
    target = await startRegistry(join(work, 'target'), { kind: 'token', realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certFile });
    const bundleDir = join(work, 'bundle');
    await collectImages(
      { images: (['app-a', 'app-b', 'multi'] as const).map((n) => ({ ref: `${source.host}/${FIXTURES[n]}` })), platform: 'linux/amd64', insecureRegistries: [source.host] },
      { bundleDir, cacheDir: join(work, 'cache'), concurrency: 2, progress: () => {} },
    );
    layout = join(bundleDir, 'images');
  }, 120_000);

  afterAll(async () => {
    await target?.stop();
    await source?.stop();
    await tokens?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('seeds an empty registry from the layout with the same digests, skipping blobs it already has', async () => {
    const client = new RegistryClient({ insecureRegistries: [target.host], credentials: { [target.host]: { username: USER, password: PASSWORD } } });
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { mediaType: string; digest: string; annotations: Record<string, string> }[] };
    const outcomes: string[] = [];
    let chunked = false;
    for (const entry of index.manifests) {
      const upstream = parseImageReference(entry.annotations[REF_NAME]!);
      const ref = { registry: target.host, repository: upstream.repository };
      const manifestBytes = await readFile(join(layout, 'blobs/sha256', entry.digest.slice(7)));
      const manifest = JSON.parse(manifestBytes.toString()) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
      for (const blob of [manifest.config, ...manifest.layers]) {
        const path = join(layout, 'blobs/sha256', blob.digest.slice(7));
        expect(await hasBlob(client, ref, blob.digest)).toBe(outcomes.includes(`${ref.repository} ${blob.digest}`));
        if (!chunked && blob.size > 40 * 1024) {
          chunked = true;
          outcomes.push(`${ref.repository} ${blob.digest}`, await uploadBlobChunked(client, ref, blob, (s, e) => stream(path, s, e), 16 * 1024));
        } else {
          outcomes.push(`${ref.repository} ${blob.digest}`, await uploadBlob(client, ref, blob, () => stream(path)));
        }
        expect(await hasBlob(client, ref, blob.digest)).toBe(true);
      }
      expect(await putManifest(client, ref, upstream.tag!, manifestBytes, entry.mediaType)).toBe(entry.digest);
      const served = await rawManifest(target.host, `${upstream.repository}:${upstream.tag}`, `${USER}:${PASSWORD}`);
      expect(sha(served)).toBe(entry.digest);
    }
    expect(chunked).toBe(true);
    expect(outcomes.filter((o) => o === 'uploaded').length).toBeGreaterThan(0);
    // A blob pushed a second time to the same repository is found by HEAD and not sent again.
    const first = index.manifests[0]!;
    const repo = { registry: target.host, repository: parseImageReference(first.annotations[REF_NAME]!).repository };
    const m = JSON.parse((await readFile(join(layout, 'blobs/sha256', first.digest.slice(7)))).toString());
    expect(await uploadBlob(client, repo, m.config, () => stream(join(layout, 'blobs/sha256', m.config.digest.slice(7))))).toBe('present');
    expect(tokens.requests.some((r) => r.scope?.endsWith(':pull,push') && r.granted)).toBe(true);
  });

  it('pulls back from the seeded registry the same manifests the bundle holds', async () => {
    const refs = (['app-a', 'app-b', 'multi'] as const).map((n) => `${target.host}/${FIXTURES[n]}`);
    const again = join(work, 'again');
    await collectImages(
      { images: refs.map((ref) => ({ ref })), platform: 'linux/amd64', insecureRegistries: [target.host], credentials: { [target.host]: { username: USER, password: PASSWORD } } },
      { bundleDir: again, cacheDir: join(work, 'cache-again'), concurrency: 2, progress: () => {} },
    );
    const digests = (dir: string) =>
      readFile(join(dir, 'index.json'), 'utf8').then((t) => (JSON.parse(t).manifests as { digest: string }[]).map((m) => m.digest).sort());
    expect(await digests(join(again, 'images'))).toEqual(await digests(layout));
  });
});
