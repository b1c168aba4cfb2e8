// ferry bundle build end to end with the real sources and local upstreams: a docker-registry with umoci-built
// images (one copied to where the device plugin's image is expected, reached through a registry mirror), a fixture
// RPM repo (rpmbuild + createrepo_c, resolved by dnf), and a loopback file server for binaries and manifests.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError, VerifyError } from '../../src/errors.ts';
import { applyDelta } from '../../src/bundle/apply.ts';
import { buildBundle, type BuildInput } from '../../src/bundle/build.ts';
import { parseDeltaNote } from '../../src/bundle/delta.ts';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { parseManifest } from '../../src/bundle/manifest.ts';
import { generateKeyPair, parsePrivateKey, parsePublicKey } from '../../src/bundle/sign.ts';
import { verifyBundle } from '../../src/bundle/verify.ts';
import { BundleSpec } from '../../src/config/bundle-spec.ts';
import { Lock } from '../../src/config/lock.ts';
import { parseYaml } from '../../src/config/parse.ts';
import { defaultSources } from '../../src/bundle/default-sources.ts';
import { FIXTURES, pushFixtures } from '../support/fixture-images.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { startRpmFixtureRepo, type RpmFixtureRepo } from '../support/rpm-fixtures.ts';
import { serveDir } from './support/fixture-server.ts';
import { tempDir } from './support/make-bundle.ts';

const lockText = readFileSync(new URL('./fixtures/lock-rocky9-h100.yaml', import.meta.url), 'utf8');
const lock = parseYaml(lockText, 'lock.yaml', Lock);
const keys = generateKeyPair();
const signing = { privateKey: parsePrivateKey(keys.privatePem, 'k'), publicPem: keys.publicPem };
const trustedKey = parsePublicKey(keys.publicPem, 'k.pub');

let work: string;
let upstream: string;
let server: Awaited<ReturnType<typeof serveDir>>;
const parseDelta = async (dir: string) => parseDeltaNote(await readFile(join(dir, BundleLayout.delta), 'utf8'), 'delta.yaml');
let registry: RunningRegistry;
let rpmRepo: RpmFixtureRepo;
const T = 120_000;

async function put(rel: string, bytes: Buffer | string) {
  await mkdir(dirname(join(upstream, rel)), { recursive: true });
  await writeFile(join(upstream, rel), bytes);
}
async function putBinary(name: string, bytes: Buffer) {
  const rel = `dl.k8s.io/release/v1.33.13/bin/linux/amd64/${name}`;
  await put(rel, bytes);
  await put(`${rel}.sha256`, `${createHash('sha256').update(bytes).digest('hex')}\n`);
}

function spec(): BundleSpec {
  const s = parseYaml(readFileSync(new URL('../../bundles/example-local.yaml', import.meta.url), 'utf8'), 'example-local.yaml', BundleSpec);
  s.os.el!['9'] = { repos: [{ id: 'fixture', baseurl: rpmRepo.baseurl }], packages: ['ferry-a'] };
  s.mirrors = Object.fromEntries(Object.entries(s.mirrors).map(([from, to]) => [from, to.replace('http://127.0.0.1:8780', server.url)]));
  s.registries = { mirrors: { 'nvcr.io': `http://${registry.host}` }, credentials: [], insecure: [registry.host] };
  return s;
}

const testLock = () => ({ ...lock, images: [{ ref: `${registry.host}/${FIXTURES['app-a']}`, component: 'test', critical: true }, { ref: `${registry.host}/${FIXTURES['app-b']}`, component: 'test', critical: false }] });

function input(outDir: string, extra: Partial<BuildInput> = {}): BuildInput {
  return {
    lock: testLock(),
    lockText,
    spec: spec(),
    outDir,
    cacheDir: join(work, 'cache'),
    signing,
    now: new Date('2026-11-23T12:00:00Z'),
    env: {},
    // The fixture RPM repo has no kernel headers or NVIDIA packages, so the GPU build packages are left out here
    // (planBundle's use of them is tested in plan.test.ts).
    sources: { ...defaultSources, gpuDriverSets: undefined },
    concurrency: 2,
    toolVersion: '0.1.0',
    // The fixture spec carries a few packages and images, not a cluster: the lock check still refuses wrong versions.
    partial: true,
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
  registry = await startRegistry(join(work, 'registry'));
  await pushFixtures(join(work, 'fixtures'), { host: registry.host, only: ['app-a', 'app-b', 'app-c'] });
  // The device plugin manifest names nvcr.io/nvidia/k8s-device-plugin:v0.17.1; the mirror serves app-c under that name.
  await execa('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${registry.host}/${FIXTURES['app-c']}`, `docker://${registry.host}/nvidia/k8s-device-plugin:v0.17.1`]);
  rpmRepo = await startRpmFixtureRepo();
}, T);
afterAll(async () => {
  await registry?.stop();
  await rpmRepo?.close();
  await server.close();
  await rm(work, { recursive: true, force: true });
});

describe('buildBundle', () => {
  let first: Awaited<ReturnType<typeof buildBundle>>;
  const kinds = (state: typeof first) => [...new Set(state.artifacts.map((a) => a.kind))].sort();

  it('builds a signed bundle from the lock and spec with every source; it verifies, and sha256sum -c accepts it', async () => {
    const out = join(work, 'full');
    const events: string[] = [];
    first = await buildBundle(input(out), (e) => events.push(`${e.type}:${e.task}`));
    expect(events[0]).toBe('start:Plan the bundle from the lock and the spec');
    expect(events.at(-1)).toBe('finish:Write manifest, SHA256SUMS, SBOM and signature');
    expect(kinds(first)).toEqual(['file', 'image-blob', 'image-index', 'manifest', 'package', 'repo-metadata']);
    const paths = first.artifacts.map((a) => a.path);
    expect(paths).toEqual(expect.arrayContaining(['files/kubernetes/1.33.13/kubeadm', 'files/kubernetes/1.33.13/kubectl', 'manifests/nvidia-device-plugin/0.17.1/nvidia-device-plugin.yml', 'images/index.json']));
    expect(paths.filter((p) => p.endsWith('.rpm')).map((p) => p.split('/').pop()).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^ferry-a-1.0-1\..*\.rpm$/), expect.stringMatching(/^ferry-b-/)]));
    expect((await stat(join(out, 'files/kubernetes/1.33.13/kubeadm'))).mode & 0o777).toBe(0o755);
    const v = await verifyBundle(out, { trustedKey });
    expect(v.checkedFiles).toBe(first.artifacts.length + 3); // + lock, SBOM, ferry.pub
    await execa('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: out });
    expect(await readFile(join(out, BundleLayout.lock), 'utf8')).toBe(lockText);
  }, T);

  it('carries the lock images and the image the manifest uses (through the registry mirror); the manifest points at the local registry', async () => {
    const index = JSON.parse(await readFile(join(work, 'full', BundleLayout.imageIndex), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
    const names = index.manifests.map((m) => JSON.stringify(m.annotations ?? {})).join('\n');
    for (const want of ['ferry/app-a:1.0', 'ferry/app-b:1.0', 'nvidia/k8s-device-plugin:v0.17.1']) expect(names).toContain(want);
    const m = await readFile(join(work, 'full/manifests/nvidia-device-plugin/0.17.1/nvidia-device-plugin.yml'), 'utf8');
    expect(m).toContain('image: registry.ferry.internal:5000/nvcr.io/nvidia/k8s-device-plugin:v0.17.1');
  }, T);

  it('writes an SPDX 2.3 SBOM with packages (name, version, release, arch), images and files', async () => {
    const sbom = JSON.parse(await readFile(join(work, 'full', BundleLayout.sbom), 'utf8'));
    expect(sbom.spdxVersion).toBe('SPDX-2.3');
    const byName = (n: string) => sbom.packages.find((p: { name: string }) => p.name === n);
    expect(byName('kubeadm')).toMatchObject({ versionInfo: '1.33.13', primaryPackagePurpose: 'FILE' });
    expect(byName('ferry-a')).toMatchObject({ versionInfo: '1.0-1', primaryPackagePurpose: 'INSTALL' });
    expect(byName('ferry-a').externalRefs[0].referenceLocator).toMatch(/^pkg:rpm\/rocky\/ferry-a@1.0-1\?arch=/);
    const images = sbom.packages.filter((p: { primaryPackagePurpose: string }) => p.primaryPackagePurpose === 'CONTAINER');
    expect(images.map((p: { name: string }) => p.name).join(' ')).toContain('nvidia/k8s-device-plugin:v0.17.1');
    expect(images.every((p: { externalRefs: { referenceLocator: string }[] }) => /^pkg:oci\/[^@]+@sha256%3A[0-9a-f]{64}\?repository_url=/.test(p.externalRefs[0]!.referenceLocator))).toBe(true);
    expect(sbom.relationships).toHaveLength(sbom.packages.length);
  }, T);

  it('resumes: a rerun fetches nothing again, removes what an interrupted run left behind, and verifies', async () => {
    const out = join(work, 'full');
    const fileHits = [...server.hits.values()].reduce((a, b) => a + b, 0);
    const rpmFetches = rpmRepo.server.log.filter((l) => l.path.endsWith('.rpm')).length;
    await writeFile(join(out, 'files/kubernetes/1.33.13/kubelet.part'), 'half');
    const state = await buildBundle(input(out));
    // Only the .sha256 checksum files are read again (they are small and say whether the binary changed).
    expect([...server.hits.values()].reduce((a, b) => a + b, 0) - fileHits).toBe(2);
    expect(rpmRepo.server.log.filter((l) => l.path.endsWith('.rpm')).length).toBe(rpmFetches);
    expect(state.pruned).toEqual(['files/kubernetes/1.33.13/kubelet.part']);
    await verifyBundle(out, { trustedKey });
  }, T);

  it('refuses a bundle that does not carry what the lock says, sealing nothing (without --partial)', async () => {
    const out = join(work, 'not-the-lock');
    const error = await buildBundle(input(out, { partial: false })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    const message = (error as UserError).message;
    expect(message).toMatch(/^the bundle does not match the lock:/);
    expect(message).toMatch(/containerd: the lock wants 2\.0\.8, the bundle has nothing/);
    expect(message).toMatch(/kubeadm: the lock wants 1\.33\.13, the bundle has nothing/);
    expect(message).toMatch(/registry: the lock wants the distribution registry binary, the bundle has nothing/);
    expect(existsSync(join(out, BundleLayout.checksums))).toBe(false);
  }, T);

  it('reads the credentials of the registries it contacts only (a CPU build needs no NGC key)', async () => {
    const s = spec();
    const unused = { registry: 'nvcr.io.unused.example', username: '$oauthtoken', passwordEnv: 'FERRY_TEST_UNSET_KEY' };
    s.registries = { ...s.registries, credentials: [unused] };
    await expect(buildBundle(input(join(work, 'creds-unused'), { spec: s }))).resolves.toBeDefined();
    s.registries = { ...s.registries, credentials: [{ ...unused, registry: registry.host }] };
    await expect(buildBundle(input(join(work, 'creds-used'), { spec: s }))).rejects.toThrow(`registry ${registry.host}: environment variable FERRY_TEST_UNSET_KEY is not set`);
  }, T);

  it('a partial build leaves out a manifest its upstream does not have, and names it; a full one stops', async () => {
    const s = spec();
    s.manifests = [...s.manifests, { component: 'calico', name: 'calico.yaml', version: '{cni}', url: 'https://raw.githubusercontent.com/projectcalico/calico/v{version}/manifests/calico.yaml', when: { cniName: 'calico' } }];
    const state = await buildBundle(input(join(work, 'partial-manifest'), { spec: s }));
    expect(state.leftOut).toEqual([expect.stringMatching(/^manifest calico\/calico\.yaml: .*HTTP 404/)]);
    expect(state.artifacts.some((a) => a.kind === 'manifest' && a.name === 'calico.yaml')).toBe(false);
    await expect(buildBundle(input(join(work, 'full-manifest'), { spec: s, partial: false }))).rejects.toThrow(/HTTP 404/);
  }, T);

  it('refuses an upstream file whose checksum does not match its .sha256, naming the URL', async () => {
    await put('dl.k8s.io/release/v1.33.13/bin/linux/amd64/kubectl.sha256', `${'0'.repeat(64)}\n`);
    const error = await buildBundle(input(join(work, 'bad'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyError);
    expect((error as VerifyError).message).toMatch(/kubectl/);
  }, T);

  it('builds a delta with --since that carries only what changed, and apply turns the old bundle into one that verifies', async () => {
    const base = join(work, 'base');
    await cp(join(work, 'full'), base, { recursive: true });
    const newKubectl = randomBytes(210_000);
    await putBinary('kubectl', newKubectl);
    const deltaDir = join(work, 'delta');
    const state = await buildBundle(input(deltaDir, { since: join(base, BundleLayout.manifest), now: new Date('2026-12-01T00:00:00Z') }));
    const carried = (await parseDelta(deltaDir)).carried;
    expect(carried).toContain('files/kubernetes/1.33.13/kubectl');
    expect(carried.filter((p) => p.endsWith('.rpm') || p.startsWith('images/blobs/') || p.endsWith('/kubeadm'))).toEqual([]);
    expect(state.delta!.unchanged).toBeGreaterThan(5);
    expect(await stat(join(deltaDir, 'files/kubernetes/1.33.13/kubeadm')).catch(() => 'absent')).toBe('absent');
    const v = await verifyBundle(deltaDir, { trustedKey });
    expect(v.notes.join('\n')).toMatch(/^delta of bundle "example-local" built .* \(base manifest.yaml sha256 [0-9a-f]{64}\): carries 4 file\(s\), leaves \d+ artifact/m);
    const manifest = parseManifest(await readFile(join(deltaDir, BundleLayout.manifest), 'utf8'), 'm');
    expect(manifest.base?.manifestSha256).toMatch(/^[0-9a-f]{64}$/);

    const applied = await applyDelta(deltaDir, base, { trustedKey });
    expect(applied.ok).toBe(true);
    expect(applied.checkedFiles).toBe(manifest.artifacts.length + 3);
    expect(await readFile(join(base, 'files/kubernetes/1.33.13/kubectl'))).toEqual(newKubectl);
    expect(await readFile(join(base, BundleLayout.manifest))).toEqual(await readFile(join(deltaDir, BundleLayout.manifest)));
    expect((await applyDelta(deltaDir, base, { trustedKey })).ok).toBe(true);
  }, T);

  it('a delta for a new patch release carries no file whose bytes the base already has under the old version\'s path', async () => {
    // 1.33.14's kubeadm binary is byte for byte 1.33.13's (kubectl changed above): by digest it is in the base.
    const kubeadm = await readFile(join(work, 'full', 'files/kubernetes/1.33.13/kubeadm'));
    const kubectl = randomBytes(190_000);
    const at = (v: string, name: string, bytes: Buffer) => put(`dl.k8s.io/release/v${v}/bin/linux/amd64/${name}`, bytes).then(() => put(`dl.k8s.io/release/v${v}/bin/linux/amd64/${name}.sha256`, `${createHash('sha256').update(bytes).digest('hex')}\n`));
    await at('1.33.14', 'kubeadm', kubeadm);
    await at('1.33.14', 'kubectl', kubectl);
    const base = join(work, 'patch-base');
    await cp(join(work, 'full'), base, { recursive: true });
    const deltaDir = join(work, 'patch-delta');
    const next = { ...testLock(), stack: { ...testLock().stack, kubernetes: '1.33.14' } };
    await buildBundle(input(deltaDir, { lock: next, since: join(base, BundleLayout.manifest), now: new Date('2026-12-02T00:00:00Z') }));
    const note = await parseDelta(deltaDir);
    expect(note.moved).toEqual([{ path: 'files/kubernetes/1.33.14/kubeadm', from: 'files/kubernetes/1.33.13/kubeadm' }]);
    expect(note.carried).toContain('files/kubernetes/1.33.14/kubectl');
    expect(note.carried).not.toContain('files/kubernetes/1.33.14/kubeadm');
    expect(note.removed).toEqual(expect.arrayContaining(['files/kubernetes/1.33.13/kubeadm', 'files/kubernetes/1.33.13/kubectl']));
    expect((await applyDelta(deltaDir, base, { trustedKey })).ok).toBe(true);
    expect(await readFile(join(base, 'files/kubernetes/1.33.14/kubeadm'))).toEqual(kubeadm);
    expect(await stat(join(base, 'files/kubernetes/1.33.13/kubeadm')).catch(() => 'absent')).toBe('absent');
  }, T);

  it('refuses to apply a delta onto a bundle that is not its base', async () => {
    const other = join(work, 'other');
    await cp(join(work, 'full'), other, { recursive: true });
    await appendFile(join(other, BundleLayout.manifest), '# not the base any more\n');
    const error = await applyDelta(join(work, 'delta'), other, { trustedKey }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/is not the base of this delta/);
  }, T);
});
