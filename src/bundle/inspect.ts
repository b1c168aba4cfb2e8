// `ferry bundle inspect`: what a bundle holds and how big each kind is, from its manifest alone (nothing hashed).
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { extract } from 'tar-stream';
import { UserError, VerifyError } from '../errors.ts';
import type { ArtifactKind } from './artifact.ts';
import { chunkStream, parseChunkIndex } from './chunks.ts';
import { BundleLayout } from './layout.ts';
import { parseManifest, type BundleManifest } from './manifest.ts';
import { parseReportLba } from './observe.ts';
import { detectForm } from './verify.ts';

export interface BundleSummary {
  name: string;
  createdAt: string;
  platform: string;
  base?: BundleManifest['base'];
  kinds: { kind: ArtifactKind; count: number; bytes: number }[];
  total: { count: number; bytes: number };
  packages: string[];
  images: string[];
  /** Built with --site: which nodes, GPU kernels and closure the bundle covers (the installed set by count and hash). */
  site?: { cluster: string | null; generatedAt: string; nodes: string[]; osVersions: string[]; kernels: string[]; closure: string; installed?: { count: number; sha256: string } };
}

/** Counts and sizes per artifact kind, plus the package and image names, from a manifest. Pure. */
export function summarize(manifest: BundleManifest): BundleSummary {
  const kinds = new Map<ArtifactKind, { count: number; bytes: number }>();
  for (const a of manifest.artifacts) {
    const k = kinds.get(a.kind) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += a.size;
    kinds.set(a.kind, k);
  }
  const list = [...kinds].map(([kind, v]) => ({ kind, ...v })).sort((a, b) => b.bytes - a.bytes);
  return {
    name: manifest.name,
    createdAt: manifest.createdAt,
    platform: manifest.platform,
    ...(manifest.base ? { base: manifest.base } : {}),
    kinds: list,
    total: { count: manifest.artifacts.length, bytes: list.reduce((n, k) => n + k.bytes, 0) },
    packages: manifest.artifacts
      .filter((a) => a.kind === 'package' && a.name)
      .map((a) => `${a.name}-${a.version}${a.release ? `-${a.release}` : ''}${a.arch ? `.${a.arch}` : ''}`),
    images: manifest.artifacts.filter((a) => a.kind === 'image-index' && a.digest).map((a) => `${a.name ?? a.source}@${a.digest}`),
    ...(manifest.site
      ? {
          site: {
            cluster: manifest.site.cluster,
            generatedAt: manifest.site.generatedAt,
            nodes: manifest.site.nodes.map((n) => n.name),
            osVersions: manifest.site.osVersions,
            kernels: manifest.site.kernels,
            closure: manifest.site.closure,
            ...(manifest.site.installed ? { installed: { count: manifest.site.installed.packages.length, sha256: manifest.site.installed.sha256 } } : {}),
          },
        }
      : {}),
  };
}

/** Bytes as people read them (binary units). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** The text `ferry bundle inspect` prints. Pure. */
export function renderSummary(s: BundleSummary): string {
  const lines = [`bundle ${s.name} (${s.platform}), built ${s.createdAt}`];
  if (s.base) lines.push(`delta onto ${s.base.name} built ${s.base.createdAt} (manifest sha256 ${s.base.manifestSha256})`);
  if (s.site) {
    const closure = s.site.installed ? `without the ${s.site.installed.count} packages every node had (sha256 ${s.site.installed.sha256.slice(0, 12)})` : 'full closure';
    lines.push(`built for site ${s.site.cluster ?? '(--local)'} read ${s.site.generatedAt}: ${s.site.nodes.join(', ')} on ${s.site.osVersions.join(', ')}; ${closure}${s.site.kernels.length ? `; NVIDIA driver for ${s.site.kernels.join(', ')}` : ''}`);
  }
  lines.push('', `${'kind'.padEnd(16)}${'files'.padStart(8)}${'size'.padStart(12)}`);
  for (const k of s.kinds) lines.push(`${k.kind.padEnd(16)}${String(k.count).padStart(8)}${formatBytes(k.bytes).padStart(12)}`);
  lines.push(`${'total'.padEnd(16)}${String(s.total.count).padStart(8)}${formatBytes(s.total.bytes).padStart(12)}`);
  if (s.packages.length) lines.push('', `packages (${s.packages.length}):`, ...s.packages.map((p) => `  ${p}`));
  if (s.images.length) lines.push('', `images (${s.images.length}):`, ...s.images.map((i) => `  ${i}`));
  return `${lines.join('\n')}\n`;
}

/** Reads one small file out of a split bundle's tar stream, stopping as soon as it is found (it comes first). */
async function fromChunks(root: string, name: string): Promise<Buffer | undefined> {
  const indexFile = join(root, BundleLayout.chunkIndex);
  const text = await readFile(indexFile, 'utf8').catch(() => {
    throw new VerifyError([`${BundleLayout.chunkIndex}: missing (a split bundle is read through its index)`]);
  });
  const index = parseChunkIndex(text, indexFile);
  const stream = chunkStream(root, index, () => {});
  const ex = extract();
  stream.pipe(ex);
  try {
    for await (const entry of ex) {
      if (entry.header.name === name) {
        const parts: Buffer[] = [];
        for await (const d of entry) parts.push(d as Buffer);
        return Buffer.concat(parts);
      }
      entry.resume();
    }
  } catch (error) {
    throw new VerifyError([`tar stream: ${error instanceof Error ? error.message : String(error)} (the chunks are damaged)`]);
  } finally {
    stream.destroy();
  }
  return undefined;
}

/** Reads one small file out of an ISO through xorriso's extent report. */
async function fromIso(iso: string, name: string): Promise<Buffer | undefined> {
  const r = await execa('xorriso', ['-indev', iso, '-find', `/${name}`, '-exec', 'report_lba', '--'], { reject: false });
  const file = parseReportLba(String(r.stdout))[0];
  if (!file) return undefined;
  const fh = await open(iso, 'r');
  try {
    const parts = await Promise.all(file.extents.map(async (x) => (await fh.read(Buffer.alloc(x.length), 0, x.length, x.start)).buffer));
    return Buffer.concat(parts);
  } finally {
    await fh.close();
  }
}

/** Reads one small top-level file (manifest, public key) from a directory, a chunk set or an ISO; undefined if absent. */
export async function readBundleFile(path: string, name: string): Promise<Buffer | undefined> {
  const { form, root } = await detectForm(path);
  if (form === 'directory') return readFile(join(root, name)).catch(() => undefined);
  return form === 'chunks' ? fromChunks(root, name) : fromIso(root, name);
}

/** Reads a bundle's manifest from a directory, a chunk set or an ISO. */
export async function readBundleManifest(path: string): Promise<BundleManifest> {
  const bytes = await readBundleFile(path, BundleLayout.manifest);
  if (!bytes) throw new UserError(`${path}: no ${BundleLayout.manifest} found; is this a ferry bundle?`);
  return parseManifest(bytes.toString('utf8'), `${path}:${BundleLayout.manifest}`);
}
