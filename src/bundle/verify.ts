// `ferry bundle verify`: find out what a bundle holds (directory, split chunks or ISO) and judge it.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { UserError, VerifyError } from '../errors.ts';
import { chunkStream, parseChunkIndex } from './chunks.ts';
import { describeDelta, parseDeltaNote } from './delta.ts';
import { judgeBundle, type Verdict } from './judge.ts';
import { BundleLayout } from './layout.ts';
import { observeDir, observeIso, observeTar, type ObserveOptions, type Observed } from './observe.ts';
import type { ProgressEvent } from './artifact.ts';

export type BundleForm = 'directory' | 'chunks' | 'iso';

/** Concurrency for hashing: on 2 cores, 2 files at once was fastest (bench/verify-vs-sha256sum.ts: 603 MB/s vs 317 at 1, 441 at 4). */
export const DEFAULT_VERIFY_CONCURRENCY = 2;

/** Tells a bundle directory, a chunk set (its directory, index or any chunk) and an ISO apart. */
export async function detectForm(path: string): Promise<{ form: BundleForm; root: string }> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new UserError(`${path}: no such file or directory`);
  }
  if (st.isDirectory()) {
    const hasIndex = await stat(join(path, BundleLayout.chunkIndex)).then(() => true, () => false);
    const hasManifest = await stat(join(path, BundleLayout.manifest)).then(() => true, () => false);
    return { form: hasIndex && !hasManifest ? 'chunks' : 'directory', root: path };
  }
  if (path.endsWith(BundleLayout.chunkIndex) || /\.tar\.\d{3}$/.test(path)) return { form: 'chunks', root: dirname(path) };
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(5);
    await fh.read(buf, 0, 5, 0x8001);
    if (buf.toString('latin1') === 'CD001') return { form: 'iso', root: path };
  } finally {
    await fh.close();
  }
  throw new UserError(`${path}: not a bundle directory, chunk set or ISO image`);
}

/** Chunk files beside the index that it does not list (a chunk set is exactly what its index names). */
async function extraChunks(root: string, listed: ReadonlySet<string>): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  return names.filter((n) => /^ferry-bundle\.tar\.\d{3,}$/.test(n) && !listed.has(n)).map((n) => `${n}: extra chunk, not in ${BundleLayout.chunkIndex}`);
}

/** Reads a bundle in any form into Observed; a chunk set is hashed chunk by chunk against its index as it streams. */
export async function observeBundle(path: string, options: ObserveOptions): Promise<{ form: BundleForm; observed: Observed }> {
  const { form, root } = await detectForm(path);
  if (form === 'directory') return { form, observed: await observeDir(root, options) };
  if (form === 'iso') return { form, observed: await observeIso(root, options) };
  const indexFile = join(root, BundleLayout.chunkIndex);
  const text = await readFile(indexFile, 'utf8').catch(() => {
    throw new VerifyError([`${BundleLayout.chunkIndex}: missing (a split bundle is read through its index)`]);
  });
  const index = parseChunkIndex(text, indexFile);
  const chunkProblems: string[] = await extraChunks(root, new Set(index.chunks.map((c) => c.name)));
  // Hashing each chunk too costs a second hash per byte, but it is the only way to see damage the tar parser skips
  // (padding after a file, the end-of-archive blocks).
  const observed = await observeTar(chunkStream(root, index, (p) => chunkProblems.push(p), { hash: true }), options.onFile);
  observed.oddities.push(...chunkProblems);
  return { form, observed };
}

/** The paths a delta bundle leaves to its base, from delta.yaml (empty for a full bundle). */
export function deltaFromBase(observed: Observed, verdictManifestPaths: readonly string[]): Set<string> {
  const text = observed.metadata.get(BundleLayout.delta);
  if (!text) return new Set();
  let carried: Set<string>;
  try {
    carried = new Set(parseDeltaNote(text.toString('utf8'), BundleLayout.delta).carried);
  } catch {
    return new Set(); // damaged: the judge names it (delta.yaml is a document of the manifest), and nothing is excused
  }
  return new Set(verdictManifestPaths.filter((p) => !carried.has(p)));
}

export interface VerifyOptions {
  trustedKey?: KeyObject;
  concurrency?: number;
  progress?: (event: ProgressEvent) => void;
}

/** Verifies a bundle in any form; throws VerifyError naming every bad file, returns the verdict when all is well. */
export async function verifyBundle(path: string, options: VerifyOptions = {}): Promise<Verdict & { form: BundleForm }> {
  let done = 0;
  let bytes = 0;
  const onFile = (_path: string, size: number) => options.progress?.({ type: 'advance', task: `files hashed (${(bytes += size) >> 20} MiB)`, done: ++done });
  const { form, observed } = await observeBundle(path, { concurrency: options.concurrency ?? DEFAULT_VERIFY_CONCURRENCY, onFile });
  let verdict = judgeBundle(observed, { trustedKey: options.trustedKey });
  if (verdict.manifest && observed.metadata.has(BundleLayout.delta)) {
    // Only artifacts can be left to the base: the documents (lock, SBOM, ferry.pub, delta.yaml) are always carried.
    const paths = verdict.manifest.artifacts.map((e) => e.path);
    verdict = judgeBundle(observed, { trustedKey: options.trustedKey, fromBase: deltaFromBase(observed, paths) });
    const text = observed.metadata.get(BundleLayout.delta)!.toString('utf8');
    let what = 'delta bundle: files left to its base are checked when it is applied (ferry bundle apply)';
    try {
      what = describeDelta(parseDeltaNote(text, BundleLayout.delta), paths);
    } catch {
      // a damaged delta.yaml is named by the judge
    }
    verdict.notes.push(what);
  }
  if (!verdict.ok) throw new VerifyError(verdict.problems, { hint: `re-copy the bundle, or rebuild it; ${verdict.problems.length} problem(s) in ${path}` });
  return { ...verdict, form };
}
