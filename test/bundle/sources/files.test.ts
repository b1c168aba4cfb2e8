// collectFiles against a loopback HTTP server (test/support/range-server.ts): resume, verification, caching.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProgressEvent, SourceContext } from '../../../src/bundle/artifact.ts';
import { download } from '../../../src/bundle/http/download.ts';
import { cachePathFor, collectFiles } from '../../../src/bundle/sources/files.ts';
import { UserError, VerifyError } from '../../../src/errors.ts';
import { startRangeServer, type RangeServer } from '../../support/range-server.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

let server: RangeServer;
let dir: string;
let ctx: SourceContext;
let events: ProgressEvent[];

beforeAll(async () => {
  server = await startRangeServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-files-'));
  events = [];
  ctx = { bundleDir: join(dir, 'bundle'), cacheDir: join(dir, 'cache'), concurrency: 3, progress: (e) => events.push(e) };
  server.files.clear();
  server.log.length = 0;
  server.peak.max = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('collectFiles', () => {
  it('downloads, verifies and places a file at files/<component>/<version>/<name> with its mode', async () => {
    const body = randomBytes(3 * MiB + 100);
    server.files.set('/kubeadm', { body });
    const [a] = await collectFiles(
      { files: [{ url: server.url('/kubeadm'), sha256: sha(body), component: 'kubernetes', version: '1.33.1', name: 'kubeadm', mode: 0o755 }] },
      ctx,
    );
    expect(a).toEqual({ kind: 'file', path: 'files/kubernetes/1.33.1/kubeadm', size: body.length, sha256: sha(body), source: server.url('/kubeadm'), name: 'kubeadm', version: '1.33.1' });
    const placed = join(ctx.bundleDir, 'files/kubernetes/1.33.1/kubeadm');
    expect(sha(await readFile(placed))).toBe(sha(body));
    expect((await stat(placed)).mode & 0o777).toBe(0o755);
    const advances = events.filter((e) => e.type === 'advance');
    expect(advances.length).toBeGreaterThan(0);
    expect(advances.length).toBeLessThanOrEqual(3);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['start', 'advance', 'finish']));
  });

  it('resumes a transfer cut midway and fetches only the remainder', async () => {
    const body = randomBytes(3 * MiB);
    server.files.set('/cni.tgz', { body, cutAfter: MiB + 12345 });
    const r = await download({ url: server.url('/cni.tgz'), dest: join(dir, 'cni.tgz'), sha256: sha(body), backoffMs: 1 });
    expect(r.attempts).toBe(2);
    expect(r.resumedFrom).toBeGreaterThan(0);
    // Bytes in flight when the socket died may be lost, so the first attempt can keep a little less than was sent.
    expect(r.resumedFrom).toBeLessThanOrEqual(MiB + 12345);
    const [first, second] = server.log;
    expect(first).toMatchObject({ status: 200, range: undefined });
    expect(second).toMatchObject({ status: 206, range: `bytes=${r.resumedFrom}-` });
    expect(second!.ifRange).toMatch(/^"/);
    expect(second!.bodyBytes).toBe(body.length - r.resumedFrom);
    expect(sha(await readFile(r.path))).toBe(sha(body));
  });

  it('resumes an interrupted build from the partial file it left in the cache', async () => {
    const body = randomBytes(2 * MiB);
    server.files.set('/crictl.tgz', { body, cutAfter: 700_000 });
    const spec = { url: server.url('/crictl.tgz'), sha256: sha(body), component: 'crictl', version: '1.33.0', name: 'crictl.tgz' };
    await expect(collectFiles({ files: [spec], retries: 0 }, ctx)).rejects.toBeInstanceOf(UserError);
    const partial = (await stat(`${cachePathFor(ctx.cacheDir, spec)}.part`)).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThanOrEqual(700_000);
    const [a] = await collectFiles({ files: [spec], retries: 0 }, ctx);
    expect(a!.sha256).toBe(sha(body));
    expect(server.log[1]).toMatchObject({ status: 206, range: `bytes=${partial}-`, bodyBytes: body.length - partial });
  });

  it('starts over when the file changed upstream between attempts (If-Range fails)', async () => {
    const before = randomBytes(MiB);
    const after = randomBytes(MiB);
    server.files.set('/runc', { body: before, cutAfter: 600_000 });
    const dest = join(dir, 'runc');
    await expect(download({ url: server.url('/runc'), dest, retries: 0 })).rejects.toBeInstanceOf(UserError);
    const partial = (await stat(`${dest}.part`)).size;
    expect(partial).toBeGreaterThan(0);
    server.files.set('/runc', { body: after });
    const r = await download({ url: server.url('/runc'), dest, retries: 0 });
    expect(server.log[1]).toMatchObject({ range: `bytes=${partial}-`, status: 200 });
    expect(r.sha256).toBe(sha(after));
    expect(r.resumedFrom).toBe(0);
  });

  it('uses Last-Modified for If-Range when the ETag is weak', async () => {
    const body = randomBytes(MiB);
    server.files.set('/weak', { body, weakEtag: true, cutAfter: 200_000 });
    const r = await download({ url: server.url('/weak'), dest: join(dir, 'weak'), backoffMs: 1 });
    expect(server.log[1]!.ifRange).toMatch(/GMT$/);
    expect(server.log[1]!.status).toBe(206);
    expect(r.sha256).toBe(sha(body));
  });

  it('falls back to a full download when the server ignores Range', async () => {
    const body = randomBytes(MiB);
    server.files.set('/norange', { body, ignoreRange: true });
    const dest = join(dir, 'norange');
    // What an interrupted earlier run leaves: the first 300000 bytes and what the server said about the file.
    await writeFile(`${dest}.part`, body.subarray(0, 300_000));
    await writeFile(`${dest}.part.json`, JSON.stringify({ url: server.url('/norange'), lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT' }));
    const r = await download({ url: server.url('/norange'), dest, sha256: sha(body) });
    expect(server.log).toHaveLength(1);
    expect(server.log[0]).toMatchObject({ status: 200, range: 'bytes=300000-', bodyBytes: body.length });
    expect(r.resumedFrom).toBe(0);
    expect(sha(await readFile(r.path))).toBe(sha(body));
  });

  it('rejects a corrupted file with an error naming URL, expected and actual sha256, and keeps nothing', async () => {
    const body = randomBytes(100_000);
    const corrupted = Buffer.from(body);
    corrupted[5000] = corrupted[5000]! ^ 0xff;
    server.files.set('/containerd.tgz', { body: corrupted });
    const spec = { url: server.url('/containerd.tgz'), sha256: sha(body), component: 'containerd', version: '2.1.5', name: 'containerd.tgz' };
    const error = await collectFiles({ files: [spec] }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyError);
    const message = (error as VerifyError).message;
    expect(message).toContain(spec.url);
    expect(message).toContain(`expected ${sha(body)}`);
    expect(message).toContain(`got ${sha(corrupted)}`);
    expect(await readdir(join(ctx.cacheDir, 'files', 'sha256'))).toEqual([]);
  });

  it('serves a second build from the cache without any request', async () => {
    const body = randomBytes(50_000);
    server.files.set('/kubelet', { body });
    const spec = { url: server.url('/kubelet'), sha256: sha(body), component: 'kubernetes', version: '1.33.1', name: 'kubelet' };
    await collectFiles({ files: [spec] }, ctx);
    const requests = server.log.length;
    const [a] = await collectFiles({ files: [spec] }, { ...ctx, bundleDir: join(dir, 'bundle2') });
    expect(server.log.length).toBe(requests);
    expect(a!.sha256).toBe(sha(body));
  });

  it('fails at once on 404 with the URL, without retrying', async () => {
    const error = await collectFiles({ files: [{ url: server.url('/missing'), component: 'x', version: '1', name: 'missing' }] }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(`${server.url('/missing')}: HTTP 404`);
    expect(server.log).toHaveLength(1);
  });

  it('gives up after the bounded number of retries on server errors', async () => {
    server.files.set('/flaky', { body: Buffer.alloc(10), status: 503 });
    const error = await download({ url: server.url('/flaky'), dest: join(dir, 'flaky'), retries: 2, backoffMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/after 3 attempts: HTTP 503/);
    expect(server.log).toHaveLength(3);
  });

  it('fetches many files through a mirror with bounded concurrency', async () => {
    const bodies = Array.from({ length: 8 }, () => randomBytes(200_000));
    bodies.forEach((b, i) => server.files.set(`/mirror/cni/plugin-${i}`, { body: b, delayMs: 50 }));
    const files = bodies.map((b, i) => ({ url: `https://github.com/containernetworking/plugins/plugin-${i}`, sha256: sha(b), component: 'cni-plugins', version: '1.6.2', name: `plugin-${i}` }));
    const mirrors = [{ prefix: 'https://github.com/containernetworking/plugins/', replacement: server.url('/mirror/cni/') }];
    const artifacts = await collectFiles({ files, mirrors }, ctx);
    expect(artifacts.map((a) => a.sha256)).toEqual(bodies.map(sha));
    expect(artifacts[0]!.source).toBe(files[0]!.url);
    expect(server.log).toHaveLength(8);
    expect(server.peak.max).toBeGreaterThan(1);
    expect(server.peak.max).toBeLessThanOrEqual(ctx.concurrency);
  });
});
