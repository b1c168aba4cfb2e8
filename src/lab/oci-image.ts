// A tiny OCI image made offline from the lab base rootfs (dash + the C library), so containerd in a node can
// `ctr images import` and run something without any registry.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

const FILES = ['usr/bin/dash', 'usr/lib/x86_64-linux-gnu/libc.so.6', 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'];

/** Write an OCI image archive (tar of an OCI layout) named `ref` holding /bin/sh; returns the archive path. `extra`
 * puts more host files in the image (e.g. a binary that needs only the C library, at /usr/local/bin/NAME, which is
 * then on the image's PATH). */
export async function makeTinyImage(baseDir: string, outDir: string, ref: string, extra: readonly { from: string; to: string }[] = []): Promise<string> {
  const work = join(outDir, 'oci-work');
  await rm(work, { recursive: true, force: true });
  const blobs = join(work, 'layout/blobs/sha256');
  await mkdir(blobs, { recursive: true });
  const layerTar = join(work, 'layer.tar');
  // Symlinks as in a merged-/usr Debian: /bin and /lib point into /usr, the loader sits where binaries look for it.
  const stage = join(work, 'rootfs');
  for (const f of FILES) {
    await mkdir(join(stage, f, '..'), { recursive: true });
    await writeFile(join(stage, f), await readFile(join(baseDir, f)), { mode: 0o755 });
  }
  for (const e of extra) {
    await mkdir(join(stage, e.to, '..'), { recursive: true });
    await writeFile(join(stage, e.to), await readFile(e.from), { mode: 0o755 });
  }
  await execa('ln', ['-s', 'usr/bin', join(stage, 'bin')]);
  await execa('ln', ['-s', 'usr/lib', join(stage, 'lib')]);
  await mkdir(join(stage, 'lib64'));
  await execa('ln', ['-s', '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(stage, 'lib64/ld-linux-x86-64.so.2')]);
  await execa('ln', ['-s', 'dash', join(stage, 'usr/bin/sh')]);
  await execa('tar', ['-c', '--numeric-owner', '--owner=0', '--group=0', '-f', layerTar, '-C', stage, '.']);
  const put = async (data: Buffer) => {
    const digest = createHash('sha256').update(data).digest('hex');
    await writeFile(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const layer = await put(await readFile(layerTar));
  const config = await put(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: { Cmd: ['/bin/sh'], Env: [extra.length ? 'PATH=/usr/local/bin:/usr/bin:/bin' : 'PATH=/usr/bin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  })));
  const manifest = await put(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  })));
  await writeFile(join(work, 'layout/oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(work, 'layout/index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
      annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref.split(':').pop() },
    }],
  }));
  const archive = join(outDir, 'tiny-image.tar');
  await execa('tar', ['-c', '-f', archive, '-C', join(work, 'layout'), '.']);
  await rm(work, { recursive: true, force: true });
  return archive;
}
