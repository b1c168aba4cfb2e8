// `ferry bundle apply DELTA --onto DIR`: turns the previous bundle into the new one, in place, then verifies it whole.
import type { KeyObject } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { parseDeltaNote } from './delta.ts';
import type { Verdict } from './judge.ts';
import { BundleLayout } from './layout.ts';
import { verifyBundle } from './verify.ts';
import { hashBytes } from '../util/hash.ts';

async function copyAtomic(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, `${to}.partial`);
  await rename(`${to}.partial`, to);
}

const exists = (path: string) => stat(path).then(() => true, () => false);

/** Applies a verified delta onto its base directory; re-running after an interruption finishes the job. */
export async function applyDelta(deltaDir: string, ontoDir: string, options: { trustedKey?: KeyObject } = {}): Promise<Verdict & { carried: number; removed: number }> {
  const notePath = join(deltaDir, BundleLayout.delta);
  const note = parseDeltaNote(await readFile(notePath, 'utf8').catch(() => {
    throw new UserError(`${deltaDir} is not a delta bundle directory (no ${BundleLayout.delta})`, {
      hint: 'a delta carried as chunks or an ISO is unpacked first: ferry bundle unpack SOURCE --out DIR',
    });
  }), notePath);
  await verifyBundle(deltaDir, options);
  const deltaManifest = await readFile(join(deltaDir, BundleLayout.manifest));
  const ontoManifest = await readFile(join(ontoDir, BundleLayout.manifest)).catch(() => {
    throw new UserError(`${ontoDir}: no ${BundleLayout.manifest}; apply needs the bundle the delta was built against`);
  });
  const ontoHash = hashBytes(ontoManifest).sha256;
  const alreadyApplied = ontoHash === hashBytes(deltaManifest).sha256;
  if (!alreadyApplied && ontoHash !== note.base.manifestSha256)
    throw new UserError(`${ontoDir} is not the base of this delta: its manifest.yaml has sha256 ${ontoHash}, the delta needs ${note.base.manifestSha256}`, {
      hint: `apply it onto the bundle "${note.base.name}" built at ${note.base.createdAt}`,
    });
  if (!alreadyApplied) {
    // Moved files are copied inside the base first: their source may be among the removed paths. A source already
    // gone is an interrupted earlier apply; the verification below judges what is there.
    for (const m of note.moved ?? []) if (await exists(join(ontoDir, m.from))) await copyAtomic(join(ontoDir, m.from), join(ontoDir, m.path));
    for (const path of note.carried) await copyAtomic(join(deltaDir, path), join(ontoDir, path));
    const kept = new Set([...(note.moved ?? []).map((m) => m.path), ...note.carried]);
    for (const path of note.removed) if (!kept.has(path)) await rm(join(ontoDir, path), { force: true });
    for (const meta of [BundleLayout.checksums, BundleLayout.signature, BundleLayout.publicKey]) {
      const from = join(deltaDir, meta);
      if (await readFile(from).then(() => true, () => false)) await copyAtomic(from, join(ontoDir, meta));
      else await rm(join(ontoDir, meta), { force: true });
    }
    await copyAtomic(join(deltaDir, BundleLayout.manifest), join(ontoDir, BundleLayout.manifest));
  }
  const verdict = await verifyBundle(ontoDir, options);
  return { ...verdict, carried: note.carried.length, removed: note.removed.length };
}
