// The bundle's manifest, read once per run from the admin host's bundle directory (through the admin host, which a
// dry run reads for real) and kept in the run state.
import { join } from 'node:path';
import { BundleLayout } from '../bundle/layout.ts';
import { parseManifest, type BundleManifest } from '../bundle/manifest.ts';
import { UserError } from '../errors.ts';
import { bundleContents, lockMismatches, notInstallable, renderMismatches, type LockMismatch } from '../bundle/lock-match.ts';
import type { PhaseContext } from './phase.ts';

/** The manifest of ctx.bundleDir (read on first use). */
export async function bundleManifest(ctx: PhaseContext): Promise<BundleManifest> {
  const known = ctx.state.bundleManifest;
  if (known) return known;
  if (!ctx.bundleDir) throw new UserError('this phase needs the bundle', { hint: 'pass --bundle DIR' });
  const file = join(ctx.bundleDir, BundleLayout.manifest);
  const text = await ctx.admin.readFile(file).then((b) => b.toString('utf8'), (error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read ${file}: ${error.code ?? error.message}`, { hint: 'point --bundle at an unpacked, verified bundle (ferry bundle unpack)' });
  });
  const manifest = parseManifest(text, file);
  ctx.state.bundleManifest = manifest;
  return manifest;
}

/**
 * Refuses, before anything runs, a bundle that does not carry what the lock says for the phase `neededBy` (the same
 * check `bundle build` makes), and a lock ferry cannot install. The runner calls it from the phase's `check`.
 */
export async function checkBundleAgainstLock(ctx: PhaseContext, neededBy: LockMismatch['neededBy']): Promise<void> {
  const lock = ctx.lock;
  if (!lock || !ctx.bundleDir) return;
  const refused = notInstallable(lock.stack);
  if (refused) throw new UserError(refused, { hint: 'resolve with --cri containerd and build the bundle again' });
  const manifest = await bundleManifest(ctx);
  const index = await ctx.admin.readFile(join(ctx.bundleDir, BundleLayout.imageIndex)).then((b) => b.toString('utf8'), () => undefined);
  const found = lockMismatches(lock, bundleContents(manifest.artifacts, index)).filter((m) => m.neededBy === neededBy);
  if (found.length > 0)
    throw new UserError(`the bundle does not match the lock:\n  ${renderMismatches(found)}`, { hint: 'build the bundle from this lock (ferry bundle build --lock ...), or pass the lock it was built from' });
}
