// Blob transfer under faults, through a recording proxy in front of a real registry: corruption is caught
// before anything is kept, a torn stream resumes with Range (in the same run and in the next build), 5xx is
// retried, redirects to blob storage are followed without sending credentials along, the cache is reused, and
// mirrors replace the upstream.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SourceContext } from '../../src/bundle/artifact.ts';
import { collectImages, type CollectImagesOptions } from '../../src/bundle/sources/images.ts';
import { REF_NAME } from '../../src/bundle/sources/oci-layout.ts';
import { ExitCode, HostUnreachableError, VerifyError } from '../../src/errors.ts';
import { FIXTURES, pushFixtures, rawManifest } from '../support/fixture-images.ts';
import { isBlobPath, startProxy, type TestProxy } from '../support/proxy.ts';
import { registryBlobPath, startRegistry, type RunningRegistry } from '../support/registry.ts';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const FAST = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
const ONE_TRY = { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
const LAYER = 1024 * 1024;

let work: string;
let registry: RunningRegistry;
let big: { digest: string; size: number };
let proxies: TestProxy[] = [];
let run = 0;

const ctxFor = (cacheDir = join(work, `cache-${++run}`)): SourceContext => ({
  bundleDir: join(work, `bundle-${++run}`),
  cacheDir,
  concurrency: 2,
  progress: () => {},
});
const options = (host: string, extra: Partial<CollectImagesOptions> = {}): CollectImagesOptions => ({
  images: [{ ref: `${host}/${FIXTURES['app-a']}` }],
  platform: 'linux/amd64',
  insecureRegistries: [host],
  retry: FAST,
  ...extra,
});
const proxy = async (target = registry.host) => {
  const p = await startProxy(target);
  proxies.push(p);
  return p;
};
const isBig = (path: string) => path.endsWith(big.digest);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-download-'));
  registry = await startRegistry(join(work, 'registry'));
  await pushFixtures(join(work, 'fixtures'), { host: registry.host, layerBytes: LAYER, only: ['app-a'] });
  const manifest = JSON.parse((await rawManifest(registry.host, FIXTURES['app-a'])).toString());
  big = manifest.layers.reduce((a: { size: number }, b: { size: number }) => (a.size >= b.size ? a : b));
  expect(big.size).toBeGreaterThan(LAYER);
}, 120_000);
afterEach(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  proxies = [];
});
afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('blob downloads', { timeout: 60_000 }, () => {
  it('detects a blob corrupted in transit and keeps no trace of it, in the cache or the bundle', async () => {
    const p = await proxy();
    p.faults.corrupt = { match: isBig, times: 100 };
    const ctx = ctxFor();
    const error = await collectImages(options(p.host), ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyError);
    expect((error as VerifyError).exitCode).toBe(ExitCode.verifyFailed);
    expect((error as VerifyError).message).toContain(big.digest);
    expect(p.log.filter((e) => isBig(e.path)).length).toBe(FAST.attempts);
    const cached = await readdir(join(ctx.cacheDir, 'blobs/sha256'));
    expect(cached.filter((f) => f.startsWith(big.digest.slice(7)))).toEqual([]);
    await expect(stat(join(ctx.bundleDir, 'images/index.json'))).rejects.toThrow(/ENOENT/);
  });

  it('retries a corrupted transfer and succeeds when the next one is clean', async () => {
    const p = await proxy();
    p.faults.corrupt = { match: isBig, times: 1 };
    const ctx = ctxFor();
    await collectImages(options(p.host), ctx);
    expect(sha(await readFile(join(ctx.bundleDir, 'images/blobs/sha256', big.digest.slice(7))))).toBe(big.digest);
    expect(p.log.filter((e) => isBig(e.path)).length).toBe(2);
  });

  it('resumes a torn stream with a Range request in the same run', async () => {
    const p = await proxy();
    const cut = Math.floor(big.size * 0.6);
    p.faults.cut = { match: isBig, bytes: cut, times: 1 };
    const ctx = ctxFor();
    await collectImages(options(p.host), ctx);
    const gets = p.log.filter((e) => isBig(e.path));
    expect(gets[0]!.bytes).toBe(cut);
    // undici drops the chunks it had queued when the connection breaks, so the file may hold a little less than
    // the proxy sent: the resume starts exactly where the file ends.
    const start = Number(/^bytes=(\d+)-$/.exec(gets[1]?.range ?? '')?.[1]);
    expect(gets.map((g) => g.range)).toEqual([undefined, `bytes=${start}-`]);
    expect(start).toBeGreaterThan(cut / 2);
    expect(start).toBeLessThanOrEqual(cut);
    expect(gets[1]!.status).toBe(206);
    expect(gets[1]!.bytes).toBe(big.size - start);
    expect(sha(await readFile(join(ctx.bundleDir, 'images/blobs/sha256', big.digest.slice(7))))).toBe(big.digest);
  });

  it('resumes an interrupted build from the partial file in the cache, fetching only the rest', async () => {
    const p = await proxy();
    const cut = Math.floor(big.size * 0.7);
    p.faults.cut = { match: isBig, bytes: cut, times: 1 };
    const cache = join(work, 'cache-interrupted');
    const error = await collectImages(options(p.host, { retry: ONE_TRY }), ctxFor(cache)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostUnreachableError);
    const kept = (await stat(join(cache, 'blobs/sha256', `${big.digest.slice(7)}.partial`))).size;
    expect(kept).toBeGreaterThan(cut / 2);
    expect(kept).toBeLessThanOrEqual(cut);
    p.log.length = 0;
    const ctx = ctxFor(cache);
    await collectImages(options(p.host), ctx);
    const gets = p.log.filter((e) => isBig(e.path));
    expect(gets).toHaveLength(1);
    expect(gets[0]!.range).toBe(`bytes=${kept}-`);
    expect(gets[0]!.bytes).toBe(big.size - kept);
    expect(gets[0]!.bytes).toBeLessThan(big.size / 2);
    expect(sha(await readFile(join(ctx.bundleDir, 'images/blobs/sha256', big.digest.slice(7))))).toBe(big.digest);
  });

  it('stops on abort mid-blob, keeping the partial file, and the next build fetches only the rest', async () => {
    const p = await proxy();
    const cache = join(work, 'cache-aborted');
    const controller = new AbortController();
    p.faults.stall = { match: isBig, bytes: Math.floor(big.size / 3), ms: 2000, times: 1, onStall: () => setTimeout(() => controller.abort(), 200) };
    const ctx: SourceContext = { ...ctxFor(cache), concurrency: 1, signal: controller.signal };
    await expect(collectImages(options(p.host), ctx)).rejects.toThrow(/abort/i);
    const partials = (await readdir(join(cache, 'blobs/sha256'))).filter((f) => f.endsWith('.partial'));
    expect(partials).toHaveLength(1);
    const hex = partials[0]!.replace('.partial', '');
    expect(hex).toBe(big.digest.slice(7));
    const kept = (await stat(join(cache, 'blobs/sha256', partials[0]!))).size;
    const manifest = JSON.parse((await rawManifest(registry.host, FIXTURES['app-a'])).toString()) as { layers: { digest: string; size: number }[] };
    const size = manifest.layers.find((l) => l.digest === `sha256:${hex}`)!.size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(size);
    p.log.length = 0;
    await collectImages(options(p.host), ctxFor(cache));
    const gets = p.log.filter((e) => e.path.endsWith(hex));
    expect(gets.map((g) => g.range)).toEqual([`bytes=${kept}-`]);
    expect(gets[0]!.status).toBe(206);
    expect(gets[0]!.bytes).toBe(size - kept);
    expect(sha(await readFile(join(cache, 'blobs/sha256', hex)))).toBe(`sha256:${hex}`);
  });

  it('stops the other transfers when one blob fails for good, leaving their partial files for the next build', async () => {
    const p = await proxy();
    const manifest = JSON.parse((await rawManifest(registry.host, FIXTURES['app-a'])).toString()) as { layers: { digest: string }[] };
    const other = manifest.layers.find((l) => l.digest !== big.digest)!.digest;
    p.faults.corrupt = { match: (path) => path.endsWith(other), times: 100 };
    p.faults.stall = { match: isBig, bytes: Math.floor(big.size / 3), ms: 800, times: 1 };
    const cache = join(work, 'cache-stop');
    await expect(collectImages(options(p.host), { ...ctxFor(cache), concurrency: 3 })).rejects.toBeInstanceOf(VerifyError);
    // Long enough for the held transfer to finish and be committed, had it not been stopped.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const files = await readdir(join(cache, 'blobs/sha256'));
    expect(files).not.toContain(big.digest.slice(7));
    expect(files).toContain(`${big.digest.slice(7)}.partial`);
  });

  it('detects a blob corrupted in the registry storage itself', async () => {
    const own = await startRegistry(join(work, 'flipped'));
    try {
      await pushFixtures(join(work, 'flipped-fixtures'), { host: own.host, only: ['app-a'] });
      const manifest = JSON.parse((await rawManifest(own.host, FIXTURES['app-a'])).toString());
      const layer = manifest.layers.at(-1).digest as string;
      const file = registryBlobPath(own, layer);
      const bytes = await readFile(file);
      bytes[bytes.length >> 1]! ^= 0x01;
      await writeFile(file, bytes);
      const ctx = ctxFor();
      const error = await collectImages(options(own.host), ctx).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VerifyError);
      expect((error as VerifyError).message).toContain(`${layer}: downloaded bytes hash to ${sha(bytes)}`);
      await expect(stat(join(ctx.cacheDir, 'blobs/sha256', layer.slice(7)))).rejects.toThrow(/ENOENT/);
    } finally {
      await own.stop();
    }
  });

  it('retries 5xx answers with backoff, and gives up with the host named after the last try', async () => {
    const p = await proxy();
    p.faults.fail = { match: (path) => path.includes('/manifests/'), status: 503, times: 2 };
    await collectImages(options(p.host), ctxFor());
    expect(p.log.filter((e) => e.path.includes('/manifests/')).map((e) => e.status)).toEqual([503, 503, 200]);
    p.faults.fail = { match: (path) => path.includes('/manifests/'), status: 502, times: 100 };
    const error = await collectImages(options(p.host), ctxFor()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostUnreachableError);
    expect((error as HostUnreachableError).message).toMatch(new RegExp(`^${p.host}: GET http://${p.host}/v2/ferry/app-a/manifests/1.0 answered HTTP 502`));
  });

  it('follows a redirect to blob storage on another origin without sending the registry credentials there', async () => {
    const password = `pw-${Math.random().toString(36).slice(2)}`;
    const basic = await startRegistry(join(work, 'redirect'), { kind: 'htpasswd', username: 'ferry', password });
    try {
      await pushFixtures(join(work, 'redirect-fixtures'), { host: basic.host, creds: `ferry:${password}`, only: ['app-a'] });
      const storage = await proxy(basic.host);
      storage.faults.authorization = `Basic ${Buffer.from(`ferry:${password}`).toString('base64')}`;
      const front = await proxy(basic.host);
      front.faults.redirect = { match: isBlobPath, to: `http://${storage.host}` };
      const ctx = ctxFor();
      await collectImages(options(front.host, { credentials: { [front.host]: { username: 'ferry', password } } }), ctx);
      const frontBlobs = front.log.filter((e) => isBlobPath(e.path));
      expect(frontBlobs.length).toBeGreaterThan(0);
      expect(frontBlobs.every((e) => e.status === 307 && e.authorization)).toBe(true);
      const storageBlobs = storage.log.filter((e) => isBlobPath(e.path));
      expect(storageBlobs.map((e) => e.path).sort()).toEqual(frontBlobs.map((e) => e.path).sort());
      expect(storageBlobs.every((e) => !e.authorization && e.status === 200)).toBe(true);
    } finally {
      await basic.stop();
    }
  });

  it('takes blobs from the cache on the next build, and fetches again a cached blob that went bad', async () => {
    const p = await proxy();
    const cache = join(work, 'cache-reuse');
    await collectImages(options(p.host), ctxFor(cache));
    p.log.length = 0;
    const second = ctxFor(cache);
    await collectImages(options(p.host), second);
    expect(p.log.filter((e) => isBlobPath(e.path))).toEqual([]);
    const cached = join(cache, 'blobs/sha256', big.digest.slice(7));
    const bytes = await readFile(cached);
    bytes[7]! ^= 0x01;
    await writeFile(cached, bytes);
    await collectImages(options(p.host), ctxFor(cache));
    expect(p.log.filter((e) => isBlobPath(e.path)).map((e) => e.path)).toEqual([`/v2/ferry/app-a/blobs/${big.digest}`]);
    expect(sha(await readFile(cached))).toBe(big.digest);
  });

  it('fetches from a mirror (with a path prefix) while naming the image by its upstream reference', async () => {
    const p = await proxy();
    const ctx = ctxFor();
    await collectImages(
      { images: [{ ref: 'registry.k8s.io/app-a:1.0' }], platform: 'linux/amd64', mirrors: { 'registry.k8s.io': `http://${p.host}/ferry` }, retry: FAST },
      ctx,
    );
    const index = JSON.parse(await readFile(join(ctx.bundleDir, 'images/index.json'), 'utf8'));
    expect(index.manifests[0].annotations[REF_NAME]).toBe('registry.k8s.io/app-a:1.0');
    expect(index.manifests[0].digest).toBe(sha(await rawManifest(registry.host, FIXTURES['app-a'])));
    expect(p.log.filter((e) => e.path !== '/v2/').every((e) => e.path.startsWith('/v2/ferry/app-a/'))).toBe(true);
  });
});
