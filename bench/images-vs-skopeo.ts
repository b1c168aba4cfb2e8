// Bench: ferry's collectImages vs `skopeo copy docker://… oci:DIR:tag` run image by image (as a user would
// script it), from the same loopback registry. Reports time, bytes on disk, and ferry's peak RSS.
//   node bench/images-vs-skopeo.ts [--gb 1] [--images 8] [--concurrency 4]
// Images: one shared random base layer (1/8 of the total) plus one random layer per image, generated here as
// uncompressed tar layers (random data does not compress) and pushed with ferry's push primitives.
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { collectImages } from '../src/bundle/sources/images.ts';
import { RegistryClient } from '../src/registry-client/client.ts';
import { putManifest, uploadBlob } from '../src/registry-client/push.ts';
import { startRegistry } from '../test/support/registry.ts';

const MiB = 1024 * 1024;
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';

interface Blob {
  digest: string;
  size: number;
  path: string;
}

/** A one-file ustar archive of `size` random bytes, streamed to disk; returns its digest. */
async function randomTarLayer(path: string, size: number): Promise<Blob> {
  const header = Buffer.alloc(512);
  header.write('random.bin', 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const hash = createHash('sha256');
  const file = await open(path, 'w');
  const put = async (b: Buffer) => (hash.update(b), await file.write(b));
  await put(header);
  const chunk = Buffer.alloc(4 * MiB);
  for (let left = size; left > 0; left -= chunk.length) await put(randomFillSync(chunk).subarray(0, Math.min(left, chunk.length)));
  await put(Buffer.alloc((512 - (size % 512)) % 512 + 1024));
  await file.close();
  return { digest: `sha256:${hash.digest('hex')}`, size: (await stat(path)).size, path };
}

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  return total;
}

async function child(args: string): Promise<void> {
  const { refs, host, bundleDir, cacheDir, concurrency } = JSON.parse(args);
  await collectImages({ images: refs.map((ref: string) => ({ ref })), platform: 'linux/amd64', insecureRegistries: [host] }, { bundleDir, cacheDir, concurrency, progress: () => {} });
  const status = await import('node:fs/promises').then((fs) => fs.readFile('/proc/self/status', 'utf8'));
  process.stdout.write(JSON.stringify({ vmHWMkB: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { gb: { type: 'string', default: '1' }, images: { type: 'string', default: '8' }, concurrency: { type: 'string', default: '4' }, child: { type: 'string' } } });
  if (values.child) return child(values.child);
  const total = Number(values.gb) * 1024 * MiB;
  const count = Number(values.images);
  const work = await mkdtemp(join(tmpdir(), 'ferry-bench-images-'));
  const registry = await startRegistry(join(work, 'registry'));
  try {
    const client = new RegistryClient({ insecureRegistries: [registry.host] });
    await mkdir(join(work, 'gen'));
    const base = await randomTarLayer(join(work, 'gen/base.tar'), Math.floor(total / 8));
    const refs: string[] = [];
    for (let i = 0; i < count; i++) {
      const own = await randomTarLayer(join(work, 'gen/own.tar'), Math.floor((total - base.size) / count));
      const repo = { registry: registry.host, repository: `bench/img-${i}` };
      const layers = [base, own];
      for (const l of layers) await uploadBlob(client, repo, l, () => Readable.toWeb(createReadStream(l.path)) as ReadableStream<Uint8Array>);
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }));
      const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
      await uploadBlob(client, repo, { digest: configDigest, size: config.length }, () => config);
      const manifest = {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: layers.map((l) => ({ mediaType: LAYER_TYPE, digest: l.digest, size: l.size })),
      };
      await putManifest(client, repo, '1', Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
      refs.push(`${registry.host}/bench/img-${i}:1`);
    }
    await rm(join(work, 'gen'), { recursive: true });

    await mkdir(join(work, 'skopeo'));
    const skopeoStart = performance.now();
    let skopeoMaxRssKb = 0;
    for (const [i, ref] of refs.entries()) {
      const r = spawnSync('/usr/bin/time', ['-f', '%M', 'skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(work, 'skopeo', `img-${i}`)}:1`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`skopeo copy ${ref} failed: ${r.stderr}`);
      skopeoMaxRssKb = Math.max(skopeoMaxRssKb, Number(r.stderr.trim().split('\n').at(-1)));
    }
    const skopeoSeconds = (performance.now() - skopeoStart) / 1000;
    const skopeoBytes = await bytesUnder(join(work, 'skopeo'));
    await rm(join(work, 'skopeo'), { recursive: true });

    const bundleDir = join(work, 'bundle');
    const args = JSON.stringify({ refs, host: registry.host, bundleDir, cacheDir: join(work, 'cache'), concurrency: Number(values.concurrency) });
    const ferryStart = performance.now();
    const r = spawnSync(process.execPath, [import.meta.filename, '--child', args], { encoding: 'utf8' });
    const ferrySeconds = (performance.now() - ferryStart) / 1000;
    if (r.status !== 0) throw new Error(`ferry child failed: ${r.stderr}`);
    const { vmHWMkB } = JSON.parse(r.stdout) as { vmHWMkB: number };
    const ferryBytes = await bytesUnder(join(bundleDir, 'images'));

    const result = {
      images: count,
      imageBytesMiB: Math.round(total / MiB),
      concurrency: Number(values.concurrency),
      skopeo: { seconds: +skopeoSeconds.toFixed(2), bytesOnDiskMiB: +(skopeoBytes / MiB).toFixed(1), maxRssMiB: +(skopeoMaxRssKb / 1024).toFixed(1) },
      ferry: { seconds: +ferrySeconds.toFixed(2), bytesOnDiskMiB: +(ferryBytes / MiB).toFixed(1), peakRssMiB: +(vmHWMkB / 1024).toFixed(1) },
      speedup: +(skopeoSeconds / ferrySeconds).toFixed(2),
      bytesRatio: +(ferryBytes / skopeoBytes).toFixed(3),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
