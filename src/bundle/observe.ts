// Reads what a bundle actually holds (every file's size and sha256, plus the small metadata files' bytes) from a
// directory, a tar stream (split chunks) or an ISO image, streaming: no file is held whole except metadata.
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { extract } from 'tar-stream';
import { UserError } from '../errors.ts';
import { bundleMetadataFiles } from './layout.ts';
import { mapPool } from '../util/map-pool.ts';
import { hashFile, hashStream, hashBytes } from '../util/hash.ts';

export interface Observed {
  /** Every regular file: path inside the bundle → size and sha256. */
  files: Map<string, { size: number; sha256: string }>;
  /** Bytes of the metadata files (manifest, signature, SHA256SUMS, public key, delta.yaml) that are present. */
  metadata: Map<string, Buffer>;
  /** Things that are neither a file nor a directory, unreadable entries, a broken tar. */
  oddities: string[];
}

const METADATA_LIMIT = 256 << 20;

export interface ObserveOptions {
  /** Files hashed at once (directory and ISO; a tar stream is read in order). */
  concurrency: number;
  /** Called after each file is hashed, for progress. */
  onFile?: (path: string, bytes: number) => void;
}

function emptyObserved(): Observed {
  return { files: new Map(), metadata: new Map(), oddities: [] };
}

/** Every path under `root`, relative with POSIX separators, split into regular files and others. */
export async function walk(root: string): Promise<{ files: string[]; others: string[] }> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  const others: string[] = [];
  for (const e of entries) {
    const rel = relative(root, join(e.parentPath, e.name)).split(sep).join('/');
    if (e.isFile()) files.push(rel);
    else if (!e.isDirectory()) others.push(rel);
  }
  return { files: files.sort(), others: others.sort() };
}

/** Observes a bundle directory, hashing up to `concurrency` files at once. */
export async function observeDir(root: string, { concurrency, onFile }: ObserveOptions): Promise<Observed> {
  const out = emptyObserved();
  let listing: { files: string[]; others: string[] };
  try {
    if (!(await lstat(root)).isDirectory()) throw new UserError(`${root} is not a directory`);
    listing = await walk(root);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot read bundle ${root}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  for (const o of listing.others) out.oddities.push(`${o}: not a regular file`);
  for (const name of bundleMetadataFiles) {
    if (listing.files.includes(name)) out.metadata.set(name, await readFile(join(root, name)));
  }
  const hashes = await mapPool(listing.files, concurrency, async (rel) => {
    try {
      const h = await hashFile(join(root, rel));
      onFile?.(rel, h.size);
      return h;
    } catch (error) {
      out.oddities.push(`${rel}: unreadable (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      return undefined;
    }
  });
  listing.files.forEach((rel, i) => {
    const h = hashes[i];
    if (h) out.files.set(rel, h);
  });
  return out;
}

/** Observes a bundle carried as a tar stream, entry by entry, without writing anything to disk. */
export async function observeTar(stream: Readable, onFile?: ObserveOptions['onFile']): Promise<Observed> {
  const out = emptyObserved();
  const ex = extract();
  ex.on('entry', (header, body, next) => {
    const name = header.name.replace(/^\.\//, '').replace(/\/$/, '');
    const done = (error?: unknown) => {
      if (error) out.oddities.push(`${name}: ${String(error)}`);
      else onFile?.(name, out.files.get(name)?.size ?? 0);
      next();
    };
    if (header.type === 'directory') {
      body.resume();
      body.on('end', () => next());
      return;
    }
    if (header.type !== 'file' || out.files.has(name)) {
      out.oddities.push(`${name}: ${header.type !== 'file' ? `not a regular file (${header.type})` : 'appears twice in the tar stream'}`);
      body.resume();
      body.on('end', () => next());
      return;
    }
    if (bundleMetadataFiles.includes(name) && (header.size ?? 0) <= METADATA_LIMIT) {
      const parts: Buffer[] = [];
      body.on('data', (d: unknown) => parts.push(d as Buffer));
      body.on('end', () => {
        const bytes = Buffer.concat(parts);
        out.metadata.set(name, bytes);
        out.files.set(name, hashBytes(bytes));
        done();
      });
      return;
    }
    hashStream(body as AsyncIterable<Uint8Array>).then((h) => {
      out.files.set(name, h);
      done();
    }, done);
  });
  try {
    await pipeline(stream, ex);
  } catch (error) {
    out.oddities.push(`tar stream: ${error instanceof Error ? error.message : String(error)} (the bundle is truncated or damaged)`);
  }
  return out;
}

/** One file's data extents inside an ISO image, from `xorriso -find -exec report_lba`. */
export interface IsoFile {
  path: string;
  extents: { start: number; length: number }[];
}

/** Parses `report_lba` lines: `File data lba: XT , LBA , BLOCKS , SIZE , 'PATH'` (xorriso 1.5.4). */
export function parseReportLba(text: string): IsoFile[] {
  const byPath = new Map<string, { xt: number; start: number; length: number }[]>();
  for (const line of text.split('\n')) {
    const m = /^File data lba:\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'(.*)'\s*$/.exec(line);
    if (!m) continue;
    const path = m[5]!.replace(/'"'"'/g, "'").replace(/^\//, '');
    const list = byPath.get(path) ?? [];
    list.push({ xt: Number(m[1]), start: Number(m[2]) * 2048, length: Number(m[4]) });
    byPath.set(path, list);
  }
  return [...byPath].map(([path, list]) => ({
    path,
    extents: list.sort((a, b) => a.xt - b.xt).map(({ start, length }) => ({ start, length })),
  }));
}

/** Observes a bundle inside an ISO image by reading each file's extents straight from the image (no mount, no copy). */
export async function observeIso(iso: string, { concurrency, onFile }: ObserveOptions): Promise<Observed> {
  const out = emptyObserved();
  const r = await execa('xorriso', ['-indev', iso, '-find', '/', '-type', 'f', '-exec', 'report_lba', '--'], { reject: false });
  if (r.exitCode !== 0 && !String(r.stdout).includes('File data lba')) {
    if ((r as { code?: string }).code === 'ENOENT') throw new UserError('xorriso is needed to read an ISO', { hint: 'apt-get install xorriso (or dnf install xorriso)' });
    throw new UserError(`cannot read ISO ${iso}: ${String(r.stderr).trim().split('\n').slice(-2).join(' ')}`);
  }
  const files = parseReportLba(String(r.stdout));
  const hashes = await mapPool(files, concurrency, async (f) => {
    const parts: Buffer[] = [];
    const keep = bundleMetadataFiles.includes(f.path);
    async function* data() {
      for (const x of f.extents) {
        if (x.length === 0) continue;
        for await (const d of createReadStream(iso, { start: x.start, end: x.start + x.length - 1, highWaterMark: 1 << 20 })) {
          if (keep) parts.push(d as Buffer);
          yield d as Buffer;
        }
      }
    }
    const h = await hashStream(data());
    if (keep) out.metadata.set(f.path, Buffer.concat(parts));
    onFile?.(f.path, h.size);
    return h;
  });
  files.forEach((f, i) => out.files.set(f.path, hashes[i]!));
  return out;
}
