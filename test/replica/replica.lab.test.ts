// The upstream replica against the clients that will use it: apt-get (signatures checked) on the Docker repo,
// ferry's registry client through every registry's auth flow and registry.k8s.io's redirect, ferry's downloader
// through GitHub's redirect, Range resume, and stop() leaving nothing behind. Needs root (the lab cache dir); the
// first run builds the content (about 50 s with the Debian downloads), later runs reuse it.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download } from '../../src/bundle/http/download.ts';
import { applyMirrors, type Mirror } from '../../src/bundle/http/mirror.ts';
import { privateApt } from '../../src/bundle/sources/deb.ts';
import { isAlive } from '../../src/lab/file-lock.ts';
import { RegistryClient } from '../../src/registry-client/client.ts';
import { parseImageReference } from '../../src/registry-client/reference.ts';
import { resolveImage } from '../../src/registry-client/resolve-image.ts';
import { startReplica, type Replica } from '../../src/replica/replica.ts';
import { K8S_BLOB_HOST, NGC_USERNAME, UPSTREAM } from '../../src/replica/upstreams.ts';
import { standInDebs } from '../stand-ins/debs.ts';

const IMAGES = [
  'registry.k8s.io/pause:3.10',
  'docker.io/calico/cni:v3.30.2',
  'quay.io/ferry/app:1.0',
  'ghcr.io/ferry/app:1.0',
  'nvcr.io/nvidia/k8s-device-plugin:v0.17.1',
];
const NGC_KEY = 'replica-test-ngc-key';
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let replica: Replica;
let work: string;
let mirrors: Mirror[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-replica-test-'));
  const kube = await standInDebs('1.33.1');
  replica = await startReplica({
    kubernetesMinor: '1.33',
    debs: { kubernetes: kube.files.map((f) => join(kube.dir, f)) },
    images: IMAGES,
    ngcApiKey: NGC_KEY,
  });
  mirrors = Object.entries(replica.mirrors.mirrors).map(([prefix, replacement]) => ({ prefix, replacement }));
}, 600_000);

afterAll(async () => {
  await replica?.stop();
  await rm(work, { recursive: true, force: true });
});

/** apt-get update + install --simulate of containerd.io against the Docker repo, signature checking on. */
async function aptDocker(dir: string): Promise<{ update: string; updateCode: number; install: string; installCode: number }> {
  await mkdir(dir, { recursive: true });
  const keyFile = join(dir, 'docker.asc');
  await writeFile(keyFile, Buffer.from(await (await fetch(applyMirrors(UPSTREAM.dockerKey, mirrors))).arrayBuffer()));
  // A bookworm node already has the C library and libseccomp: the status says so, so only containerd.io is new.
  const status = ['libc6 2.36-9+deb12u10', 'libseccomp2 2.5.4-1+deb12u1'].map((p) => {
    const [name, version] = p.split(' ');
    return `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nMaintainer: x\nDescription: x\n`;
  }).join('\n');
  const apt = await privateApt(dir, [{ uri: applyMirrors(UPSTREAM.docker, mirrors), suite: 'bookworm', components: ['stable'], signedBy: keyFile }], 'amd64', status);
  const run = async (argv: string[]) => {
    const r = await execa(argv[0]!, argv.slice(1), { reject: false, all: true });
    return { out: r.all ?? '', code: r.exitCode ?? -1 };
  };
  const update = await run(apt.apt('apt-get', '-q', '-o', 'APT::Update::Error-Mode=any', 'update'));
  const install = await run(apt.apt('apt-get', '-s', '-q', 'install', `containerd.io=${replica.content.containerdIo.version}`));
  return { update: update.out, updateCode: update.code, install: install.out, installCode: install.code };
}

describe('upstream replica', () => {
  it('serves Docker\'s signed bookworm repo: apt-get with signature checking installs-simulates containerd.io', async () => {
    const r = await aptDocker(join(work, 'apt-ok'));
    expect(r.updateCode, r.update).toBe(0);
    expect(r.install).toMatch(new RegExp(`Inst containerd\\.io \\(${replica.content.containerdIo.version.replace(/[.~]/g, '\\$&')} Docker`));
    expect(replica.content.containerdIo.from.runc).toMatch(/^1\.1\.5/);
  });

  it('fails apt-get update when one byte of the signed Release is flipped', async () => {
    const inRelease = `${UPSTREAM.docker}/dists/bookworm/InRelease`;
    const bytes = Buffer.from(await (await fetch(applyMirrors(inRelease, mirrors))).arrayBuffer());
    const at = bytes.indexOf('Components: stable') + 'Components: '.length;
    bytes[at] = bytes[at]! ^ 0x01;
    replica.override(inRelease, bytes);
    try {
      const r = await aptDocker(join(work, 'apt-flipped'));
      expect(r.updateCode).not.toBe(0);
      expect(r.update).toMatch(/BADSIG|signatures were invalid|not signed/);
      expect(r.installCode).not.toBe(0);
    } finally {
      replica.override(inRelease, undefined);
    }
  });

  it('answers pkgs.k8s.io with 302 to the CDN host, where the flat repo and its key are', async () => {
    const res = await fetch(applyMirrors(`${UPSTREAM.kubernetes('1.33')}InRelease`, mirrors), { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toContain('/prod-cdn.packages.k8s.io/repositories/isv:/kubernetes:/core:/stable:/v1.33/deb/InRelease');
    const packages = await (await fetch(applyMirrors(`${UPSTREAM.kubernetes('1.33')}Packages`, mirrors))).text();
    expect(packages).toContain('Filename: amd64/kubeadm_1.33.1-1.1_amd64.deb');
    expect((await fetch(applyMirrors(`${UPSTREAM.kubernetes('1.33')}Release.key`, mirrors))).status).toBe(200);
    expect((await fetch(applyMirrors(`${UPSTREAM.cuda}3bf863cc.pub`, mirrors))).status).toBe(200);
    expect((await fetch(applyMirrors(`${UPSTREAM.cuda}nothing-here`, mirrors))).status).toBe(404);
  });

  it.each(IMAGES)('pulls %s with ferry\'s registry client through that registry\'s auth flow', async (ref) => {
    const client = new RegistryClient({
      mirrors: replica.mirrors.registries.mirrors,
      credentials: { 'nvcr.io': { username: NGC_USERNAME, password: NGC_KEY } },
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const parsed = parseImageReference(ref);
    const image = await resolveImage(client, parsed, { os: 'linux', architecture: 'amd64' });
    expect(image.index).toBeDefined();
    const layer = image.layers.at(-1)!;
    const res = await client.openBlob(parsed, layer.digest, 0);
    const body = Buffer.from(await res.arrayBuffer());
    expect(sha(body)).toBe(layer.digest);
    if (parsed.registry === 'registry.k8s.io') {
      expect(res.redirected).toBe(true);
      expect(res.url).toContain(`/${K8S_BLOB_HOST}/containers/images/${layer.digest}`);
    } else {
      expect(replica.tokenLog[parsed.registry]!.some((t) => t.granted)).toBe(true);
    }
  });

  it('refuses nvcr.io without the NGC API key and with a wrong one', async () => {
    const parsed = parseImageReference('nvcr.io/nvidia/k8s-device-plugin:v0.17.1');
    const retry = { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
    const anonymous = new RegistryClient({ mirrors: replica.mirrors.registries.mirrors, retry });
    await expect(anonymous.getManifest(parsed, 'v0.17.1')).rejects.toThrow(/authentication to 127\.0\.0\.1:\d+ failed anonymously/);
    const wrong = new RegistryClient({ mirrors: replica.mirrors.registries.mirrors, retry, credentials: { 'nvcr.io': { username: NGC_USERNAME, password: 'nope' } } });
    await expect(wrong.getManifest(parsed, 'v0.17.1')).rejects.toThrow(/refused user "\$oauthtoken"/);
    const challenge = (await fetch(`${replica.registries['nvcr.io']}/v2/nvidia/k8s-device-plugin/manifests/v0.17.1`)).headers.get('www-authenticate');
    expect(challenge).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/proxy_auth",scope="repository:nvidia\/k8s-device-plugin:pull"$/);
  });

  it('follows GitHub\'s 302 for the registry tarball, which matches its .sha256 and holds the real registry binary', async () => {
    const url = UPSTREAM.distribution('2.8.3');
    const first = await fetch(applyMirrors(url, mirrors), { redirect: 'manual' });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toMatch(/\/objects\.githubusercontent\.com\/github-production-release-asset-2e65be\/\d+\/[0-9a-f-]{36}\?.*filename%3Dregistry_2\.8\.3_linux_amd64\.tar\.gz/);
    const sum = (await (await fetch(applyMirrors(`${url}.sha256`, mirrors))).text()).split(/\s+/)[0]!;
    const got = await download({ url: applyMirrors(url, mirrors), dest: join(work, 'registry.tar.gz'), sha256: sum, retries: 0 });
    expect(got.sha256).toBe(sum);
    const { stdout } = await execa('tar', ['-tzf', join(work, 'registry.tar.gz')]);
    expect(stdout.split('\n').sort()).toEqual(['LICENSE', 'README.md', 'registry']);
    await execa('tar', ['-xzf', join(work, 'registry.tar.gz'), '-C', work, 'registry']);
    expect((await execa(join(work, 'registry'), ['--version'])).stdout).toContain('2.8.3');
  });

  it('resumes a download with Range while If-Range matches, and sends it whole when it does not', async () => {
    const url = applyMirrors(`${UPSTREAM.docker}/dists/bookworm/pool/stable/amd64/containerd.io_${replica.content.containerdIo.version}_amd64.deb`, mirrors);
    const whole = await fetch(url);
    const etag = whole.headers.get('etag')!;
    const all = Buffer.from(await whole.arrayBuffer());
    const head = await fetch(url, { method: 'HEAD' });
    expect(Number(head.headers.get('content-length'))).toBe(all.length);
    const rest = await fetch(url, { headers: { range: 'bytes=1000-', 'if-range': etag } });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes 1000-${all.length - 1}/${all.length}`);
    expect(Buffer.concat([all.subarray(0, 1000), Buffer.from(await rest.arrayBuffer())]).equals(all)).toBe(true);
    const stale = await fetch(url, { headers: { range: 'bytes=1000-', 'if-range': '"stale"' } });
    expect(stale.status).toBe(200);
    await stale.body?.cancel();
    // ferry's downloader: a partial file from an earlier run is completed from where it stopped.
    const dest = join(work, 'containerd.io.deb');
    await writeFile(`${dest}.part`, all.subarray(0, 4096));
    await writeFile(`${dest}.part.json`, JSON.stringify({ url, etag, lastModified: whole.headers.get('last-modified') }));
    const got = await download({ url, dest, sha256: createHash('sha256').update(all).digest('hex'), retries: 0 });
    expect(got.resumedFrom).toBe(4096);
    expect((await readFile(dest)).equals(all)).toBe(true);
  });

  it('leaves no process and no listener after stop()', async () => {
    const pids = [...replica.pids];
    const urls = [replica.origin, ...Object.values(replica.registries)];
    expect(pids).toHaveLength(5);
    await replica.stop();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    for (const u of urls) await expect(fetch(`${u}/v2/`)).rejects.toThrow();
  });
});
