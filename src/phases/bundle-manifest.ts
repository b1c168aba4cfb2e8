// The bundle's manifest, read once per run from the admin host's bundle directory and kept in the run state.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleLayout } from '../bundle/layout.ts';
import { parseManifest, type BundleManifest } from '../bundle/manifest.ts';
import { UserError } from '../errors.ts';
import type { PhaseContext } from './phase.ts';

const KEY = 'bundleManifest';

/** The manifest of ctx.bundleDir (read on first use). */
export async function bundleManifest(ctx: PhaseContext): Promise<BundleManifest> {
  const known = ctx.state[KEY] as BundleManifest | undefined;
  if (known) return known;
  if (!ctx.bundleDir) throw new UserError('this phase needs the bundle', { hint: 'pass --bundle DIR' });
  const file = join(ctx.bundleDir, BundleLayout.manifest);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read ${file}: ${error.code ?? error.message}`, { hint: 'point --bundle at an unpacked, verified bundle (ferry bundle unpack)' });
  });
  const manifest = parseManifest(text, file);
  ctx.state[KEY] = manifest;
  return manifest;
}
