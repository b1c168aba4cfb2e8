// [needs apt mirror] `ferry bundle build` through the CLI for a CPU-only Debian 12 stack with the real sources:
// OS packages from the machine's own apt sources (socat and its full closure),
// kubeadm from a loopback file server reached through the spec's mirrors; split into chunks, verified, unpacked.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineAptSources } from '../support/apt-sources.ts';
import { serveDir } from '../bundle/support/fixture-server.ts';
import { tempDir } from '../bundle/support/make-bundle.ts';
import { lockWithoutImages, runFerry as ferry } from './support/run-ferry.ts';

let work: string;
let server: Awaited<ReturnType<typeof serveDir>>;
const T = 300_000;

beforeAll(async () => {
  work = await tempDir('ferry-cli-debian-');
  const kubeadm = randomBytes(100_000);
  const bin = join(work, 'upstream/dl.k8s.io/release/v1.33.13/bin/linux/amd64');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'kubeadm'), kubeadm);
  await writeFile(join(bin, 'kubeadm.sha256'), createHash('sha256').update(kubeadm).digest('hex'));
  server = await serveDir(join(work, 'upstream'));
  const lock = lockWithoutImages();
  await writeFile(join(work, 'lock.yaml'), lock);
  const spec = {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'BundleSpec',
    name: 'debian-cpu',
    closure: 'full',
    os: { debian: { '12': { sources: await machineAptSources(), packages: ['socat'] } } },
    files: [{ component: 'kubernetes', name: 'kubeadm', version: '{kubernetes}', url: 'https://dl.k8s.io/release/v{version}/bin/linux/{arch}/kubeadm', sha256Url: '{url}.sha256', mode: 0o755 }],
    mirrors: { 'https://dl.k8s.io': `${server.url}/dl.k8s.io` },
  };
  await writeFile(join(work, 'spec.yaml'), stringify(spec));
  await ferry('key', 'generate', '--out', join(work, 'keys'));
}, T);
afterAll(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

describe('ferry bundle build for Debian 12 (real apt sources)', () => {
  it('builds, splits, verifies the chunks, unpacks and inspects a bundle with the socat .deb and kubeadm', async () => {
    const usb = join(work, 'usb');
    const b = await ferry('bundle', 'build', '--lock', join(work, 'lock.yaml'), '--spec', join(work, 'spec.yaml'), '--out', usb, '--split', '256k', '--cache', join(work, 'cache'), '--sign-key', join(work, 'keys/ferry.key'), '--json', '--no-ferry-binary', '--partial');
    expect(b.code, b.err).toBe(0);
    expect(JSON.parse(b.out).chunks).toBeGreaterThan(1);
    const pub = join(work, 'keys/ferry.pub');
    const v = await ferry('bundle', 'verify', usb, '--pubkey', pub);
    expect(v.code, v.err).toBe(0);
    const u = await ferry('bundle', 'unpack', usb, '--out', join(work, 'unpacked'), '--pubkey', pub, '--quiet');
    expect(u.code, u.err).toBe(0);
    const i = JSON.parse((await ferry('bundle', 'inspect', join(work, 'unpacked'), '--json')).out) as { packages: string[]; kinds: { kind: string }[] };
    expect(i.packages.some((p) => p.startsWith('socat-'))).toBe(true);
    expect(i.kinds.map((k) => k.kind).sort()).toEqual(['file', 'package', 'repo-metadata']);
    expect(await readFile(join(work, 'unpacked/packages/debian-12/amd64/Packages'), 'utf8')).toMatch(/^Package: socat$/m);
  }, T);
});
