// Bench: seeding a fresh local registry replica with ferry (parallel blobs, HEAD-skip, cross-repo mounts) vs
// `skopeo copy oci:LAYOUT:REF docker://HOST/REPO:TAG` image by image, same layout, same kind of fresh replica
// (docker-registry on ferry's rendered config, TLS from ferry's CA); then the time for a node's containerd
// (CRI, rendered hosts.toml) to pull the whole set again after a simulated image GC.
//   node bench/registry-seed.ts [--mb 500] [--images 8] [--concurrency 8]
// Images: one shared random base layer (1/8 of the total) plus one random layer per image, as tar files made with
// tar(1), in one OCI layout annotated like a bundle's.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { REF_NAME } from '../src/bundle/sources/oci-layout.ts';
import { RegistryClient } from '../src/registry-client/client.ts';
import { MediaType } from '../src/registry-client/manifest.ts';
import { readLayoutPlan } from '../src/registry/layout-files.ts';
import { seedReplica } from '../src/registry/seed.ts';
import { trustRegistryCa } from '../src/registry/trust.ts';
import { renderContainerdHosts } from '../src/render/containerd-hosts.ts';
import { criImageClient } from '../test/support/cri-client.ts';
import { makeReplicaPki, startReplica } from '../test/registry/replica.ts';
import { startNodeContainerd } from '../test/registry/node-containerd.ts';
import { hashFile } from '../src/util/hash.ts';

const MiB = 1024 * 1024;


/** Writes `bytes` into the layout as a blob; returns its descriptor. */
async function putBlob(layout: string, mediaType: string, bytes: Buffer): Promise<{ mediaType: string; digest: string; size: number }> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(join(layout, 'blobs/sha256', digest.slice(7)), bytes);
  return { mediaType, digest, size: bytes.length };
}

/** A tar layer of one random file of `size` bytes, moved into the layout. */
async function randomLayer(layout: string, work: string, size: number) {
  const dir = await mkdtemp(join(work, 'layer-'));
  execFileSync('sh', ['-c', 'head -c "$1" /dev/urandom > "$2/random.bin" && tar -C "$2" -cf "$2.tar" random.bin', 'sh', String(size), dir]);
  const digest = (await hashFile(`${dir}.tar`)).sha256;
  const size2 = Number(execFileSync('stat', ['-c', '%s', `${dir}.tar`], { encoding: 'utf8' }).trim());
  await rename(`${dir}.tar`, join(layout, 'blobs/sha256', digest.slice(7)));
  await rm(dir, { recursive: true });
  return { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: size2, diffId: digest };
}

async function makeLayout(work: string, totalBytes: number, count: number): Promise<string> {
  const layout = join(work, 'layout');
  await mkdir(join(layout, 'blobs/sha256'), { recursive: true });
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const base = await randomLayer(layout, work, Math.floor(totalBytes / 8));
  const manifests = [];
  for (let i = 0; i < count; i++) {
    const own = await randomLayer(layout, work, Math.floor((totalBytes - base.size) / count));
    const config = await putBlob(layout, 'application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/random.bin'] }, rootfs: { type: 'layers', diff_ids: [base.diffId, own.diffId] },
    })));
    const layers = [base, own].map(({ diffId: _, ...d }) => d);
    const manifest = await putBlob(layout, MediaType.ociManifest, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers })));
    manifests.push({ ...manifest, annotations: { [REF_NAME]: `registry.k8s.io/bench/img-${i}:1.0` } });
  }
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
  return layout;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, (performance.now() - start) / 1000];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mb: { type: 'string', default: '500' }, images: { type: 'string', default: '8' }, concurrency: { type: 'string', default: '8' } } });
  const work = await mkdtemp(join(tmpdir(), 'ferry-bench-registry-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const layout = await makeLayout(work, Number(values.mb) * MiB, Number(values.images));
    const plan = await readLayoutPlan(layout);
    const bytes = new Map(plan.flatMap((p) => p.blobs.map((b) => [b.digest, b.size] as const)));
    const total = [...bytes.values()].reduce((a, b) => a + b, 0);
    const pki = await makeReplicaPki(join(work, 'pki'));
    trustRegistryCa(pki.ca.certPem);
    const certDir = join(work, 'skopeo-certs');
    await mkdir(certDir);
    copyFileSync(pki.ca.certPath, join(certDir, 'ca.crt'));

    const a = await startReplica(join(work, 'ferry'), { ...pki, caPem: pki.ca.certPem });
    stops.push(a.stop);
    const client = new RegistryClient();
    const [report, ferryS] = await timed(() => seedReplica(client, a.host, layout, plan, { concurrency: Number(values.concurrency) }));
    const [again, againS] = await timed(() => seedReplica(client, a.host, layout, plan));

    const b = await startReplica(join(work, 'skopeo'), { ...pki, caPem: pki.ca.certPem });
    stops.push(b.stop);
    const [, skopeoS] = await timed(async () => {
      for (const image of plan) {
        await execa('skopeo', ['--insecure-policy', 'copy', '-q', `--dest-cert-dir=${certDir}`, `oci:${layout}:${image.ref}`, `docker://${b.host}/${image.repository}:${image.tag}`]);
      }
    });

    const hostsDir = join(work, 'certs.d');
    for (const f of renderContainerdHosts({ registry: { name: 'registry.ferry.internal:5000', replicas: [a.host], caPath: pki.ca.certPath }, images: plan.map((p) => p.ref), configPath: hostsDir })) {
      await mkdir(dirname(f.path), { recursive: true });
      await writeFile(f.path, f.content);
    }
    const node = await startNodeContainerd(join(work, 'node'), hostsDir, '1.6.20', 'registry.ferry.internal:5000/registry.k8s.io/pause:3.10');
    stops.push(node.stop);
    const cri = criImageClient(node.socket, 600_000);
    stops.push(async () => cri.close());
    const pullAll = () => Promise.all(plan.map((p) => cri.pull(p.ref)));
    const [, firstPullS] = await timed(pullAll);
    const [, gcS] = await timed(async () => {
      for (const image of await cri.list()) await cri.remove(image.id);
    });
    const [, repullS] = await timed(pullAll);

    const mb = total / 1e6;
    const line = (what: string, s: number) => console.log(`${what.padEnd(52)} ${s.toFixed(2).padStart(7)} s  ${(mb / s).toFixed(0).padStart(5)} MB/s`);
    console.log(`${plan.length} images, ${bytes.size} distinct blobs, ${mb.toFixed(0)} MB distinct (shared base layer 1/8)`);
    line(`ferry seed, fresh replica (${report.uploaded} up, ${report.mounted} mounted)`, ferryS);
    line(`ferry seed again (${again.present} present, ${again.uploaded} up)`, againS);
    line('skopeo copy oci: → docker://, image by image', skopeoS);
    line('CRI pull of the set on a node (first)', firstPullS);
    console.log(`${'simulated GC (CRI RemoveImage of every image)'.padEnd(52)} ${gcS.toFixed(2).padStart(7)} s`);
    line('CRI re-pull of the set after the GC', repullS);
  } finally {
    for (const stop of stops.reverse()) await stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
