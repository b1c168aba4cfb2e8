import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError, VerifyError } from '../../src/errors.ts';
import { applyDelta } from '../../src/bundle/apply.ts';
import { buildBundle, type BuildInput, type BundleSources } from '../../src/bundle/build.ts';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { parseManifest } from '../../src/bundle/manifest.ts';
import { generateKeyPair, parsePrivateKey, parsePublicKey } from '../../src/bundle/sign.ts';
import { verifyBundle } from '../../src/bundle/verify.ts';
import { BundleSpec } from '../../src/config/bundle-spec.ts';
import { Lock } from '../../src/config/lock.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { serveDir } from './support/fixture-server.ts';
import { tempDir } from './support/make-bundle.ts';
import { recordingImages, urlFiles } from './support/stand-in-sources.ts';

const lockText = readFileSync(new URL('./fixtures/lock-rocky9-h100.yaml', import.meta.url), 'utf8');
const lock = parseYaml(lockText, 'lock.yaml', Lock);
const keys = generateKeyPair();
const signing = { privateKey: parsePrivateKey(keys.privatePem, 'k'), publicPem: keys.publicPem };
const trustedKey = parsePublicKey(keys.publicPem, 'k.pub');

let work: string;
let upstream: string;
let server: Awaited<ReturnType<typeof serveDir>>;
const imageCalls: Parameters<NonNullable<BundleSources['images']>>[0][] = [];

async function put(rel: string, bytes: Buffer | string) {
  await mkdir(dirname(join(upstream, rel)), { recursive: true });
  await writeFile(join(upstream, rel), bytes);
}
async function putBinary(name: string, bytes: Buffer) {
  const rel = `dl.k8s.io/release/v1.33.1/bin/linux/amd64/${name}`;
  await put(rel, bytes);
  await put(`${rel}.sha256`, `${createHash('sha256').update(bytes).digest('hex')}\n`);
}

function spec(): BundleSpec {
  const s = parseYaml(readFileSync(new URL('../../bundles/example-local.yaml', import.meta.url), 'utf8'), 'example-local.yaml', BundleSpec);
  // Until the packages branch lands there is no RPM source to run: this build has no OS packages.
  s.os.el!['9']!.packages = [];
  s.mirrors = Object.fromEntries(Object.entries(s.mirrors).map(([from, to]) => [from, to.replace('http://127.0.0.1:8780', server.url)]));
  return s;
}

function input(outDir: string, extra: Partial<BuildInput> = {}): BuildInput {
  return {
    lock,
    lockText,
    spec: spec(),
    outDir,
    cacheDir: join(work, 'cache'),
    signing,
    now: new Date('2026-11-23T12:00:00Z'),
    env: {},
    sources: { files: urlFiles, images: recordingImages(imageCalls) },
    concurrency: 2,
    toolVersion: '0.1.0',
    ...extra,
  };
}

beforeAll(async () => {
  work = await tempDir('ferry-build-test-');
  upstream = join(work, 'upstream');
  await putBinary('kubeadm', randomBytes(300_000));
  await putBinary('kubectl', randomBytes(200_000));
  await put(
    'raw.githubusercontent.com/NVIDIA/k8s-device-plugin/v0.17.1/deployments/static/nvidia-device-plugin.yml',
    readFileSync(new URL('./fixtures/nvidia-device-plugin-v0.17.1.yml', import.meta.url)),
  );
  server = await serveDir(upstream);
});
afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

describe('buildBundle', () => {
  it('builds a signed bundle from the lock and spec that verifies, and that sha256sum -c accepts', async () => {
    const out = join(work, 'full');
    const events: string[] = [];
    const state = await buildBundle(input(out), (e) => events.push(`${e.type}:${e.task}`));
    expect(events[0]).toBe('start:Plan the bundle from the lock and the spec');
    expect(events.at(-1)).toBe('finish:Write manifest, SHA256SUMS, SBOM and signature');
    expect(state.artifacts.map((a) => a.path).sort()).toEqual([
      'files/kubernetes/1.33.1/kubeadm',
      'files/kubernetes/1.33.1/kubectl',
      'images/index.json',
      'manifests/nvidia-device-plugin/0.17.1/nvidia-device-plugin.yml',
    ]);
    expect((await stat(join(out, 'files/kubernetes/1.33.1/kubeadm'))).mode & 0o777).toBe(0o755);
    const v = await verifyBundle(out, { trustedKey });
    expect(v.checkedFiles).toBe(6);
    await execa('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: out });
    expect(await readFile(join(out, BundleLayout.lock), 'utf8')).toBe(lockText);
  });

  it('asks the image source for the lock images plus those the manifests use, rewritten manifests point at the local registry', async () => {
    const refs = imageCalls[0]!.images.map((i) => i.ref);
    expect(refs).toEqual(['registry.k8s.io/pause:3.10', 'registry.k8s.io/kube-apiserver:v1.33.1', 'nvcr.io/nvidia/k8s-device-plugin:v0.17.1']);
    expect(imageCalls[0]!.images[0]!.critical).toBe(true);
    const m = await readFile(join(work, 'full/manifests/nvidia-device-plugin/0.17.1/nvidia-device-plugin.yml'), 'utf8');
    expect(m).toContain('image: registry.ferry.local:5000/nvidia/k8s-device-plugin:v0.17.1');
  });

  it('writes an SPDX 2.3 SBOM naming each file with its sha256', async () => {
    const sbom = JSON.parse(await readFile(join(work, 'full', BundleLayout.sbom), 'utf8'));
    expect(sbom.spdxVersion).toBe('SPDX-2.3');
    const kubeadm = sbom.packages.find((p: { name: string }) => p.name === 'kubeadm');
    expect(kubeadm.versionInfo).toBe('1.33.1');
    expect(kubeadm.checksums[0].checksumValue).toMatch(/^[0-9a-f]{64}$/);
    expect(sbom.relationships).toHaveLength(sbom.packages.length);
  });

  it('resumes: a rerun reuses the cached manifest, removes what an interrupted run left behind, and verifies', async () => {
    const out = join(work, 'full');
    const manifestUrl = '/raw.githubusercontent.com/NVIDIA/k8s-device-plugin/v0.17.1/deployments/static/nvidia-device-plugin.yml';
    const before = server.hits.get(manifestUrl);
    await writeFile(join(out, 'files/kubernetes/1.33.1/kubelet.partial'), 'half');
    const state = await buildBundle(input(out));
    expect(server.hits.get(manifestUrl)).toBe(before);
    expect(state.pruned).toEqual(['files/kubernetes/1.33.1/kubelet.partial']);
    await verifyBundle(out, { trustedKey });
  });

  it('refuses an upstream file whose checksum does not match its .sha256, naming the URL', async () => {
    await put('dl.k8s.io/release/v1.33.1/bin/linux/amd64/kubectl.sha256', `${'0'.repeat(64)}\n`);
    const error = await buildBundle(input(join(work, 'bad'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyError);
    expect((error as VerifyError).problems[0]).toMatch(/kubectl: sha256 [0-9a-f]{64}, expected 0{64}/);
  });

  it('builds a delta with --since that carries only what changed, and apply turns the old bundle into one that verifies', async () => {
    const base = join(work, 'base');
    await cp(join(work, 'full'), base, { recursive: true });
    const newKubectl = randomBytes(210_000);
    await putBinary('kubectl', newKubectl);
    const deltaDir = join(work, 'delta');
    const state = await buildBundle(input(deltaDir, { since: join(base, BundleLayout.manifest), now: new Date('2026-12-01T00:00:00Z') }));
    expect(state.delta).toEqual({ carried: 1, unchanged: 3, removed: 0 });
    expect(await stat(join(deltaDir, 'files/kubernetes/1.33.1/kubeadm')).catch(() => 'absent')).toBe('absent');
    const v = await verifyBundle(deltaDir, { trustedKey });
    expect(v.notes.join('\n')).toMatch(/delta bundle/);
    const manifest = parseManifest(await readFile(join(deltaDir, BundleLayout.manifest), 'utf8'), 'm');
    expect(manifest.base?.manifestSha256).toMatch(/^[0-9a-f]{64}$/);

    const applied = await applyDelta(deltaDir, base, { trustedKey });
    expect(applied.ok).toBe(true);
    expect(applied.carried).toBe(3);
    expect(await readFile(join(base, 'files/kubernetes/1.33.1/kubectl'))).toEqual(newKubectl);
    expect(await readFile(join(base, BundleLayout.manifest))).toEqual(await readFile(join(deltaDir, BundleLayout.manifest)));
    expect((await applyDelta(deltaDir, base, { trustedKey })).ok).toBe(true);
  });

  it('refuses to apply a delta onto a bundle that is not its base', async () => {
    const other = join(work, 'other');
    await cp(join(work, 'full'), other, { recursive: true });
    await writeFile(join(other, BundleLayout.manifest), (await readFile(join(other, BundleLayout.manifest), 'utf8')).replace('createdAt:', 'createdAt: "2020-01-01T00:00:00Z"\nx:'));
    const error = await applyDelta(join(work, 'delta'), other, { trustedKey }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/is not the base of this delta/);
  });
});
