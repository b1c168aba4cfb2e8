// End to end on loopback: the rendered registry config serves an image seeded at the path local-image.ts names;
// containerd (Debian's 1.6) fetches it through the rendered hosts.toml, and containers/image (skopeo, the library
// CRI-O uses) through the rendered registries.conf. No name in these tests resolves: nothing can reach the internet.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { parse, stringify } from 'smol-toml';
import { renderContainerdConfig, pinImageArgv } from '../../src/render/containerd.ts';
import { renderContainerdHosts, type LocalRegistryEndpoints } from '../../src/render/containerd-hosts.ts';
import { renderCrioRegistries } from '../../src/render/crio.ts';
import { localImageRef } from '../../src/render/local-image.ts';
import { renderRegistry } from '../../src/render/registry.ts';
import type { RenderedFile } from '../../src/render/file.ts';
import { freePort, httpsGet, waitFor } from './net.ts';
import { makeTestPki } from './test-ca.ts';
import { put, tempDir, tool } from './tools.ts';

const image = 'registry.k8s.io/pause:3.10';
const localName = 'registry.ferry.internal:5000';

/** Writes rendered files under `root` (their absolute paths re-rooted there). */
function writeUnder(root: string, files: readonly RenderedFile[]): void {
  for (const f of files) {
    const path = join(root, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content, { mode: f.mode });
  }
}

describe('local registry mirrors, end to end on loopback', () => {
  const tmp = tempDir('mirror');
  const children: ReturnType<typeof execa>[] = [];
  let pki: Awaited<ReturnType<typeof makeTestPki>>;
  let registry: LocalRegistryEndpoints;
  let deadReplica = '';
  const sock = () => join(tmp.dir, 'containerd.sock');

  beforeAll(async () => {
    pki = await makeTestPki(tmp.dir, ['IP:127.0.0.1']);
    const port = await freePort();
    deadReplica = `127.0.0.1:${await freePort()}`;
    // A dead replica first: clients must move on to the live one.
    registry = { name: localName, replicas: [deadReplica, `127.0.0.1:${port}`], caPath: pki.caCert };
    const [registryConfig] = renderRegistry({ listen: `127.0.0.1:${port}`, rootDirectory: join(tmp.dir, 'data'), tls: { certificate: pki.serverCert, key: pki.serverKey } });
    children.push(execa('docker-registry', ['serve', put(tmp.dir, 'registry.yml', registryConfig!.content)], { reject: false, timeout: 60_000 }));
    const ca = readFileSync(pki.caCert, 'utf8');
    if (!(await waitFor(async () => (await httpsGet(`https://127.0.0.1:${port}/v2/`, ca)).status === 200, 15_000))) throw new Error('registry did not start');

    // Seed: an empty image made by umoci, pushed by skopeo to the repository the naming convention picks.
    const layout = join(tmp.dir, 'oci');
    for (const argv of [['umoci', 'init', '--layout', layout], ['umoci', 'new', '--image', `${layout}:3.10`]]) {
      const r = await tool(argv);
      if (r.exitCode !== 0) throw new Error(r.output);
    }
    mkdirSync(join(tmp.dir, 'push-certs'));
    writeFileSync(join(tmp.dir, 'push-certs', 'ca.crt'), ca);
    const push = await tool(['skopeo', 'copy', '--dest-cert-dir', join(tmp.dir, 'push-certs'), `oci:${layout}:3.10`, `docker://${localImageRef(image, `127.0.0.1:${port}`)}`]);
    if (push.exitCode !== 0) throw new Error(push.output);

    // containerd with the rendered config.toml, moved into the temp dir (root, state, socket, config_path).
    const rendered = parse(renderContainerdConfig({ version: '1.6.20', sandboxImage: localImageRef(image, localName), configPath: join(tmp.dir, 'certs.d') }).content);
    const config = { ...rendered, root: join(tmp.dir, 'root'), state: join(tmp.dir, 'state'), grpc: { address: sock() } };
    children.push(execa('containerd', ['--config', put(tmp.dir, 'containerd.toml', stringify(config))], { reject: false, timeout: 60_000 }));
    if (!(await waitFor(async () => (await tool(['ctr', '-a', sock(), 'version'], 2000)).exitCode === 0, 20_000))) throw new Error('containerd did not start');
  }, 60_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM'); // signals each PID; a no-op for one that already exited
    await Promise.all(children);
    tmp.cleanup();
  });

  it.each([
    ['the upstream name', image],
    ['the local registry name', localImageRef(image, localName)],
  ])('containerd fetches %s through hosts.toml, past a dead replica', async (_n, ref) => {
    const hostsDir = join(tmp.dir, 'certs.d');
    writeUnder('/', renderContainerdHosts({ registry, images: [image], configPath: hostsDir }));
    const r = await tool(['ctr', '-a', sock(), 'content', 'fetch', '--hosts-dir', hostsDir, ref], 30_000);
    expect(r.exitCode, r.output).toBe(0);
    const ls = await tool(['ctr', '-a', sock(), 'images', 'ls', '-q']);
    expect(ls.output.split('\n')).toContain(ref);
  });

  it('pins the fetched image with the label kubelet honours', async () => {
    const [ctr, ...args] = pinImageArgv(image);
    // The default namespace for ctr here is "default"; the argv names k8s.io, where CRI keeps its images.
    const fetch = await tool(['ctr', '-a', sock(), '--namespace', 'k8s.io', 'content', 'fetch', '--hosts-dir', join(tmp.dir, 'certs.d'), image], 30_000);
    expect(fetch.exitCode, fetch.output).toBe(0);
    const r = await tool([ctr!, '-a', sock(), ...args]);
    expect(r.exitCode, r.output).toBe(0);
    const ls = await tool(['ctr', '-a', sock(), '--namespace', 'k8s.io', 'images', 'ls']);
    expect(ls.output).toMatch(/registry\.k8s\.io\/pause:3\.10 .*io\.cri-containerd\.pinned=pinned/);
  });

  it.each([
    ['the upstream name', image],
    ['the local registry name', localImageRef(image, localName)],
  ])('containers/image (CRI-O\'s library, via skopeo) pulls %s through registries.conf', async (_n, ref) => {
    const root = join(tmp.dir, 'crio');
    writeUnder(root, renderCrioRegistries({ registry, images: [image], caPem: readFileSync(pki.caCert, 'utf8') }));
    const conf = join(root, 'etc/containers/registries.conf.d/10-ferry.conf');
    const live = registry.replicas[1]!;
    const out = join(tmp.dir, `pulled-${ref.length}`);
    const r = await tool(['skopeo', '--registries-conf', conf, 'copy', '--src-cert-dir', join(root, 'etc/containers/certs.d', live), `docker://${ref}`, `oci:${out}:x`], 30_000);
    expect(r.exitCode, r.output).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).manifests).toHaveLength(1);
  });
});
