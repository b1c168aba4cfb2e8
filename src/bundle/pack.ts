// Packing a bundle for the trip: a tar stream cut straight into numbered chunk files (FAT32-safe), or an ISO via
// xorriso; and unpacking either on the air-gapped side. Streaming throughout: no intermediate full tar.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { extract, pack } from 'tar-stream';
import { UserError, VerifyError } from '../errors.ts';
import { chunkStream, parseChunkIndex, renderChunkIndex, type ChunkIndex } from './chunks.ts';
import { BundleLayout, bundleMetadataFiles } from './layout.ts';
import { walk } from './observe.ts';
import { detectForm } from './verify.ts';

/** Parses a size such as `3900M`, `4G`, `512k` or a plain byte count (binary units, as split(1) reads them). */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new UserError(`--split ${text}: not a size`, { hint: 'write it as bytes or with K, M, G (e.g. 3900M, which fits FAT32)' });
  const power = { '': 0, K: 1, M: 2, G: 3, T: 4 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  const bytes = Number(m[1]) * 1024 ** power;
  if (bytes < 10240) throw new UserError(`--split ${text}: chunks must be at least 10 KiB`);
  if (bytes > 2 ** 32 - 1) throw new UserError(`--split ${text}: FAT32 cannot hold a file of 4 GiB or more`, { hint: 'use 3900M' });
  return bytes;
}

/** Metadata first (so a reader meets the manifest early), then every other file in path order. */
export function packOrder(files: readonly string[]): string[] {
  const meta = bundleMetadataFiles.filter((m) => files.includes(m));
  return [...meta, ...files.filter((f) => !bundleMetadataFiles.includes(f)).sort()];
}

/** A Writable that cuts what it receives into files of `chunkSize` bytes, hashing each as it goes. */
class ChunkWriter extends Writable {
  readonly chunks: ChunkIndex['chunks'] = [];
  private fh: FileHandle | undefined;
  private hash: Hash | undefined;
  private written = 0;
  private readonly dir: string;
  private readonly chunkSize: number;
  constructor(dir: string, chunkSize: number) {
    super({ highWaterMark: 1 << 20 });
    this.dir = dir;
    this.chunkSize = chunkSize;
  }
  private async closeChunk() {
    if (!this.fh) return;
    await this.fh.close();
    this.chunks.push({ name: BundleLayout.chunk(this.chunks.length), size: this.written, sha256: this.hash!.digest('hex') });
    this.fh = undefined;
  }
  private async put(data: Buffer) {
    let at = 0;
    while (at < data.length) {
      if (!this.fh) {
        this.fh = await open(join(this.dir, BundleLayout.chunk(this.chunks.length)), 'w');
        this.hash = createHash('sha256');
        this.written = 0;
      }
      const part = data.subarray(at, at + (this.chunkSize - this.written));
      await this.fh.write(part);
      this.hash!.update(part);
      this.written += part.length;
      at += part.length;
      if (this.written === this.chunkSize) await this.closeChunk();
    }
  }
  override _write(data: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void) {
    this.put(data).then(() => cb(), cb);
  }
  override _final(cb: (e?: Error | null) => void) {
    this.closeChunk().then(() => cb(), cb);
  }
}

/** Streams the bundle in `dir` as a tar into chunk files under `outDir`, then writes the chunk index. */
export async function packSplit(dir: string, outDir: string, chunkSize: number, onFile?: (path: string) => void): Promise<ChunkIndex> {
  const { files, others } = await walk(dir);
  if (others.length > 0) throw new UserError(`${dir}: ${others[0]} is not a regular file; a bundle holds only files`);
  await mkdir(outDir, { recursive: true });
  for (const name of await readdir(outDir)) {
    if (/^ferry-bundle\.tar\.\d{3}$/.test(name) || name === BundleLayout.chunkIndex) await rm(join(outDir, name));
  }
  const tar = pack();
  const writer = new ChunkWriter(outDir, chunkSize);
  const written = pipeline(tar, writer);
  const fed = (async () => {
    for (const rel of packOrder(files)) {
      const st = await stat(join(dir, rel));
      onFile?.(rel);
      const entry = tar.entry({ name: rel, size: st.size, mode: st.mode & 0o777, mtime: st.mtime, type: 'file' });
      await pipeline(createReadStream(join(dir, rel), { highWaterMark: 1 << 20 }), entry);
    }
    tar.finalize();
  })();
  await Promise.all([fed, written]);
  const index: ChunkIndex = {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'ChunkIndex',
    chunkSize,
    totalSize: writer.chunks.reduce((n, c) => n + c.size, 0),
    chunks: writer.chunks,
  };
  const indexPath = join(outDir, BundleLayout.chunkIndex);
  await writeFile(`${indexPath}.partial`, renderChunkIndex(index));
  await rename(`${indexPath}.partial`, indexPath);
  return index;
}

/** xorriso's answer when it is not installed, as a UserError that says how to get it. */
function needXorriso(error: unknown): never {
  throw new UserError('xorriso is not installed', { hint: 'apt-get install xorriso (Debian/Ubuntu) or dnf install xorriso (EL)', cause: error });
}

/** Writes the bundle in `dir` as an ISO 9660 image (Rock Ridge + Joliet, level 3 for files over 4 GiB). */
export async function packIso(dir: string, isoFile: string, label: string): Promise<void> {
  const volid = label.toUpperCase().replace(/[^A-Z0-9_]/g, '_').slice(0, 32);
  await mkdir(dirname(isoFile), { recursive: true });
  const r = await execa('xorriso', ['-as', 'mkisofs', '-R', '-J', '-joliet-long', '-iso-level', '3', '-V', volid, '-o', isoFile, dir], {
    reject: false,
  }).catch(needXorriso);
  if ((r as { code?: string }).code === 'ENOENT') needXorriso(r);
  if (r.exitCode !== 0) throw new UserError(`xorriso could not write ${isoFile}: ${String(r.stderr).trim().split('\n').slice(-3).join(' ')}`);
}

/** Refuses tar entry names that would land outside the target directory. */
function safeName(name: string): string {
  const clean = name.replace(/^\.\//, '');
  if (clean.startsWith('/') || clean.split('/').some((s) => s === '..')) throw new UserError(`refusing tar entry ${JSON.stringify(name)}: it points outside the bundle`);
  return clean;
}

/** Unpacks a split bundle (chunks) or an ISO into `outDir`, streaming; the caller verifies the result. */
export async function unpackBundle(source: string, outDir: string): Promise<void> {
  const { form, root } = await detectForm(source);
  await mkdir(outDir, { recursive: true });
  if (form === 'directory') throw new UserError(`${source} is already a bundle directory; nothing to unpack`);
  if (form === 'iso') {
    const r = await execa('xorriso', ['-osirrox', 'on', '-indev', root, '-extract', '/', outDir], { reject: false }).catch(needXorriso);
    if (r.exitCode !== 0) throw new UserError(`xorriso could not read ${root}: ${String(r.stderr).trim().split('\n').slice(-3).join(' ')}`);
    return;
  }
  const indexFile = join(root, BundleLayout.chunkIndex);
  const index = parseChunkIndex(await readFile(indexFile, 'utf8'), indexFile);
  const problems: string[] = [];
  const ex = extract();
  ex.on('entry', (header, body, next) => {
    if (header.type !== 'file') {
      body.resume();
      body.on('end', () => next());
      return;
    }
    let target: string;
    try {
      target = join(outDir, safeName(header.name));
    } catch (error) {
      next(error as Error);
      return;
    }
    mkdir(dirname(target), { recursive: true })
      .then(() => pipeline(body, createWriteStream(target, { mode: (header.mode ?? 0o644) & 0o777 })))
      .then(() => next(), next);
  });
  try {
    await pipeline(chunkStream(root, index, (p) => problems.push(p)), ex);
  } catch (error) {
    problems.push(`tar stream: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (problems.length > 0) throw new VerifyError(problems, { hint: `copy the damaged chunks of ${root} again from the source medium` });
}
