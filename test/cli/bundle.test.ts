import { cp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { makeBundle, tempDir } from '../bundle/support/make-bundle.ts';
import { lockWithoutImages, runFerry as ferry } from './support/run-ferry.ts';

let made: Awaited<ReturnType<typeof makeBundle>>;
let work: string;
let pub: string;

beforeAll(async () => {
  made = await makeBundle();
  work = await tempDir('ferry-cli-bundle-');
  pub = join(work, 'trusted.pub');
  await writeFile(pub, made.keys.publicPem);
});
afterAll(async () => {
  await rm(made.dir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('ferry key', () => {
  it('generates a private key with mode 0600 and a public key, printing only paths and the fingerprint', async () => {
    const dir = join(work, 'keys');
    const r = await ferry('key', 'generate', '--out', dir);
    expect(r.code).toBe(0);
    expect((await stat(join(dir, 'ferry.key'))).mode & 0o777).toBe(0o600);
    const priv = await readFile(join(dir, 'ferry.key'), 'utf8');
    expect(priv).toMatch(/BEGIN PRIVATE KEY/);
    expect(r.out + r.err).not.toContain(priv.split('\n')[1]!);
    expect(r.out).toMatch(/fingerprint SHA256:\S{43}\n/);
    const fp = await ferry('key', 'fingerprint', join(dir, 'ferry.key'));
    expect(r.out).toContain(fp.out.trim());
    const again = await ferry('key', 'generate', '--out', dir);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/exists/);
  });
});

describe('ferry bundle verify', () => {
  it('exits 0 on an intact bundle and reports the signer', async () => {
    const r = await ferry('bundle', 'verify', made.dir, '--pubkey', pub);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok: 9 files/);
    expect(r.out).toMatch(/signature: good, by SHA256:/);
  });

  it('exits 6 naming each bad file, and prints them as JSON with --json', async () => {
    const copy = join(work, 'damaged');
    await cp(made.dir, copy, { recursive: true });
    await rm(join(copy, 'files/kubernetes/1.33.1/kubeadm'));
    await writeFile(join(copy, 'extra.bin'), 'x');
    const r = await ferry('bundle', 'verify', copy);
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/files\/kubernetes\/1.33.1\/kubeadm: missing/);
    expect(r.err).toMatch(/extra.bin: extra file/);
    const j = await ferry('bundle', 'verify', copy, '--json');
    expect(j.code).toBe(6);
    expect(JSON.parse(j.out)).toEqual({ ok: false, problems: expect.arrayContaining(['files/kubernetes/1.33.1/kubeadm: missing']) });
  });

  it('trusts the bundle key only when --fingerprint matches it', async () => {
    const fp = (await ferry('key', 'fingerprint', pub)).out.trim();
    expect((await ferry('bundle', 'verify', made.dir, '--fingerprint', fp)).code).toBe(0);
    const wrong = await ferry('bundle', 'verify', made.dir, '--fingerprint', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(wrong.code).toBe(6);
    expect(wrong.err).toMatch(/is not the trusted SHA256:AAAA/);
  });

  it.each([
    ['a path that does not exist', ['bundle', 'verify', '/nonexistent/ferry-bundle']],
    ['an unreadable public key', ['bundle', 'verify', '.', '--pubkey', '/nonexistent.pub']],
    ['a bad concurrency', ['bundle', 'verify', '.', '--concurrency', '0']],
    ['a missing argument', ['bundle', 'verify']],
    ['--split without --out', ['bundle', 'build', '--lock', 'l', '--spec', 's', '--iso', 'x.iso', '--split', '1G']],
    ['a split size over FAT32\'s limit', ['bundle', 'build', '--lock', 'l', '--spec', 's', '--out', 'o', '--split', '4G']],
  ])('exits 2 on %s', async (_name, argv) => {
    const r = await ferry(...argv);
    expect(r.code).toBe(2);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe('ferry bundle build, inspect, unpack (no sources needed: a lock without images, a spec without files)', () => {
  const lockPath = () => join(work, 'lock.yaml');
  const specPath = () => join(work, 'spec.yaml');
  beforeAll(async () => {
    const lock = lockWithoutImages();
    await writeFile(lockPath(), lock);
    await writeFile(
      specPath(),
      'apiVersion: ferry.dev/v1alpha1\nkind: BundleSpec\nname: empty\nos:\n  debian:\n    "12":\n      sources: [{ uri: "http://deb.debian.org/debian", suite: bookworm, components: [main] }]\n',
    );
    await ferry('key', 'generate', '--out', join(work, 'k'));
  });

  it('builds a signed bundle, splits it into chunks and writes an ISO; each verifies; inspect reads them', async () => {
    const out = join(work, 'usb');
    const r = await ferry('bundle', 'build', '--lock', lockPath(), '--spec', specPath(), '--out', out, '--split', '16k', '--iso', join(work, 'b.iso'), '--cache', join(work, 'cache'), '--sign-key', join(work, 'k/ferry.key'), '--json', '--no-ferry-binary', '--partial');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ artifacts: 0, signed: true, iso: join(work, 'b.iso') });
    for (const form of [out, join(work, 'b.iso'), join(work, 'cache/bundles/empty')]) {
      const v = await ferry('bundle', 'verify', form, '--pubkey', join(work, 'k/ferry.pub'), '--json');
      expect(v.code, v.err).toBe(0);
      expect(JSON.parse(v.out).signer).toMatch(/^SHA256:/);
      const i = await ferry('bundle', 'inspect', form, '--json');
      expect(JSON.parse(i.out)).toMatchObject({ name: 'empty', platform: 'linux/amd64', total: { count: 0, bytes: 0 } });
    }
    const u = await ferry('bundle', 'unpack', out, '--out', join(work, 'unpacked'), '--pubkey', join(work, 'k/ferry.pub'));
    expect(u.code, u.err).toBe(0);
    expect(await readFile(join(work, 'unpacked', BundleLayout.lock), 'utf8')).toBe(await readFile(lockPath(), 'utf8'));
  });

  it('prints one plain line per step when stderr is not a terminal', async () => {
    // A shell script stands in for the single-executable ferry here.
    const exe = join(work, 'ferry-exe');
    await writeFile(exe, '#!/bin/sh\necho ferry\n');
    const r = await ferry('bundle', 'build', '--lock', lockPath(), '--spec', specPath(), '--out', join(work, 'plain'), '--cache', join(work, 'cache'), '--ferry-binary', exe, '--partial');
    expect(r.code).toBe(0);
    expect((await stat(join(work, 'plain', BundleLayout.binary))).mode & 0o777).toBe(0o755);
    expect((await ferry('bundle', 'verify', join(work, 'plain'))).code).toBe(0);
    expect(r.err).toMatch(/^\[bundle\] The ferry executable: 21 bytes$/m);
    expect(r.err).toMatch(/^\[bundle\] Plan the bundle from the lock and the spec: 0 images/m);
    expect(r.out).toMatch(/NOT signed/);
  });

  it('--dry-run of a GPU lock without --kernel is refused with exit 2, naming --kernel and uname -r', async () => {
    const lock = new URL('../bundle/fixtures/lock-rocky9-h100.yaml', import.meta.url).pathname;
    const spec = new URL('../../bundles/gpu-cluster.yaml', import.meta.url).pathname;
    for (const dry of [['--dry-run'], ['--out', join(work, 'no-kernel')]]) {
      const r = await ferry('bundle', 'build', '--lock', lock, '--spec', spec, ...dry);
      expect(r.code).toBe(2);
      expect(r.err).toContain('the lock has NVIDIA driver 580.126.18, which must be built for the exact kernel of each GPU node, and no kernel was named');
      expect(r.err).toContain('pass --kernel');
      expect(r.err).toContain('uname -r');
    }
    const el8 = await ferry('bundle', 'build', '--lock', lock, '--spec', spec, '--dry-run', '--kernel', '4.18.0-553.el8_10.x86_64');
    expect(el8.code).toBe(2);
    expect(el8.err).toContain('4.18.0-553.el8_10.x86_64 is an EL 8 kernel, but the lock is for rocky 9.4');
  });

  it('--mirrors lays a site\'s mirrors file over the unchanged spec (its entries win), and a bad one exits 2 naming it', async () => {
    const lock = new URL('../bundle/fixtures/lock-debian12-cpu.yaml', import.meta.url).pathname;
    const spec = new URL('../../bundles/gpu-cluster.yaml', import.meta.url).pathname;
    const mirrors = join(work, 'mirrors.yaml');
    await writeFile(mirrors, [
      'apiVersion: ferry.dev/v1alpha1', 'kind: Mirrors',
      'mirrors:', '  https://pkgs.k8s.io: http://127.0.0.1:9/pkgs.k8s.io', '  https://github.com: http://127.0.0.1:9/github.com',
      'registries:', '  mirrors:', '    registry.k8s.io: http://127.0.0.1:9', '  insecure: [127.0.0.1:9]', '',
    ].join('\n'));
    const r = await ferry('bundle', 'build', '--lock', lock, '--spec', spec, '--mirrors', mirrors, '--dry-run', '--json');
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out) as { deb: { sources: { uri: string; signedBy?: string }[] }; files: { url: string }[]; registries: { mirrors: Record<string, string>; insecure: string[] } };
    expect(plan.deb.sources).toContainEqual(expect.objectContaining({ uri: 'http://127.0.0.1:9/pkgs.k8s.io/core:/stable:/v1.33/deb/', signedBy: 'http://127.0.0.1:9/pkgs.k8s.io/core:/stable:/v1.33/deb/Release.key' }));
    expect(plan.deb.sources[0]!.uri).toBe('http://deb.debian.org/debian');
    expect(plan.files[0]!.url).toMatch(/^http:\/\/127\.0\.0\.1:9\/github\.com\/distribution\//);
    expect(plan.registries).toMatchObject({ mirrors: { 'registry.k8s.io': 'http://127.0.0.1:9' }, insecure: ['127.0.0.1:9'] });
    await writeFile(mirrors, 'apiVersion: ferry.dev/v1alpha1\nkind: Mirrors\nmirror: {}\n');
    const bad = await ferry('bundle', 'build', '--lock', lock, '--spec', spec, '--mirrors', mirrors, '--dry-run');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('mirrors.yaml');
  });

  it("--dry-run with --kernel prints the plan for the real gpu-cluster spec: the node kernel's driver alternatives, fetching nothing", async () => {
    const lock = new URL('../bundle/fixtures/lock-rocky9-h100.yaml', import.meta.url).pathname;
    const spec = new URL('../../bundles/gpu-cluster.yaml', import.meta.url).pathname;
    const exact = '5.14.0-427.13.1.el9_4.x86_64';
    const r = await ferry('bundle', 'build', '--lock', lock, '--spec', spec, '--dry-run', '--json', '--kernel', exact);
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out) as { rpm: { repos: unknown[]; releasever: string; packages: string[]; gpu: { kernel: string; alternatives: { kind: string; packages: string[] }[] }[] }; files: { name: string }[] };
    expect(plan.rpm.repos).toHaveLength(7);
    expect(plan.rpm.releasever).toBe('9.4');
    expect(plan.files.map((f) => f.name)).toEqual(['registry']);
    expect(plan.rpm.gpu).toHaveLength(1);
    expect(plan.rpm.gpu[0]!.kernel).toBe(exact);
    expect(plan.rpm.gpu[0]!.alternatives.map((a) => a.kind)).toEqual(['precompiled', 'dkms']);
    expect(plan.rpm.gpu[0]!.alternatives[1]!.packages).toContain(`kernel-devel-${exact}`);
    expect((await ferry('bundle', 'build', '--lock', lock, '--spec', spec, '--dry-run', '--kernel', 'not a kernel')).code).toBe(2);
  });

  it('exits 2 naming file, line and field for a bad spec', async () => {
    const bad = join(work, 'bad-spec.yaml');
    await writeFile(bad, 'apiVersion: ferry.dev/v1alpha1\nkind: BundleSpec\nname: x\nclosure: everything\n');
    const r = await ferry('bundle', 'build', '--lock', lockPath(), '--spec', bad, '--out', join(work, 'x'));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:4:10: closure:`);
  });

  it('inspect prints sizes per kind', async () => {
    const r = await ferry('bundle', 'inspect', made.dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^image-blob\s+1\s+68.4 KiB$/m);
    expect(r.out).toMatch(/containerd.io-1.7.27-3.1.el9.x86_64/);
  });
});

describe('ferry bundle build --out safety', () => {
  it('refuses a directory that holds other files and no bundle, and leaves them alone', async () => {
    const dir = join(work, 'usb-stick');
    await cp(made.dir, join(dir, 'holiday-photos'), { recursive: true });
    const lock = join(work, 'safety-lock.yaml');
    await writeFile(lock, lockWithoutImages());
    const spec = join(work, 'safety-spec.yaml');
    await writeFile(spec, 'apiVersion: ferry.dev/v1alpha1\nkind: BundleSpec\nname: s\nos:\n  debian:\n    "12":\n      sources: [{ uri: "http://deb.debian.org/debian", suite: bookworm, components: [main] }]\n');
    const r = await ferry('bundle', 'build', '--lock', lock, '--spec', spec, '--out', dir, '--cache', join(work, 'cache'), '--no-ferry-binary');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not empty and holds no ferry bundle/);
    expect((await stat(join(dir, 'holiday-photos', BundleLayout.manifest))).isFile()).toBe(true);
  });
});
