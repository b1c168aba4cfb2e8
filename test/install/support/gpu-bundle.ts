// Test support: a lab bundle with extra .debs (the NVIDIA stand-ins) in its OS repository, made the way a site
// adds local packages (test/stand-ins/bundle.ts: the debs copied in, the repo index rewritten by ferry's own
// indexFlatRepo, the bundle resealed by ferry's sealBundle), on a hard-linked copy of the base bundle.
// Cached by content in /var/cache/ferry-test.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { BundleLayout } from '../../../src/bundle/layout.ts';
import { parseManifest } from '../../../src/bundle/manifest.ts';
import { addDebsToBundle } from '../../stand-ins/bundle.ts';
import { LAB_CACHE } from './lab-bundle.ts';

/** `base` plus `debs` (files in `debsDir`) in its Debian repository; returns the new bundle's directory. */
export async function bundleWithDebs(base: string, debsDir: string, debs: readonly string[]): Promise<string> {
  const manifestText = await readFile(join(base, BundleLayout.manifest), 'utf8');
  const key = createHash('sha256').update(manifestText).update(debsDir).update(debs.join('\n')).digest('hex').slice(0, 12);
  const out = join(LAB_CACHE, `gpu-bundle-${key}`);
  if (existsSync(join(out, BundleLayout.manifest))) return out;
  const index = parseManifest(manifestText, join(base, BundleLayout.manifest)).artifacts.find((a) => a.kind === 'repo-metadata' && a.path.endsWith('/Packages'));
  if (!index) throw new Error(`${base} has no Debian repository`);
  const repoPath = index.path.slice(0, -'/Packages'.length);
  const work = `${out}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  // Hard links for the big files. The repo index is rewritten in place by indexFlatRepo, so those links go first and
  // the base is never written through (sealBundle writes new files and renames them).
  await execa('cp', ['-al', base, work]);
  for (const f of ['Packages', 'Packages.gz', 'Release']) await rm(join(work, repoPath, f), { force: true });
  await addDebsToBundle(work, debs.map((d) => join(debsDir, d)), { workDir: `${work}.index` });
  await rm(`${work}.index`, { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
  await rename(work, out);
  return out;
}
