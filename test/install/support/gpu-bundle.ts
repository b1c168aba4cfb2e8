// Test support: a lab bundle with extra .debs (the NVIDIA stand-ins) in its OS repository, made the way a site
// adds local packages: the debs copied into the flat repo, its index rewritten by ferry's own indexFlatRepo, and
// the bundle resealed (manifest, SHA256SUMS, SBOM) by ferry's sealBundle. Cached by content in /var/cache/ferry-test.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { BundleLayout } from '../../../src/bundle/layout.ts';
import { parseManifest } from '../../../src/bundle/manifest.ts';
import { sealBundle } from '../../../src/bundle/seal.ts';
import { indexFlatRepo } from '../../../src/bundle/sources/deb.ts';
import { hashFile } from '../../../src/util/hash.ts';
import { LAB_CACHE } from './lab-bundle.ts';

/** `base` plus `debs` (files in `debsDir`) in its Debian repository; returns the new bundle's directory. */
export async function bundleWithDebs(base: string, debsDir: string, debs: readonly string[]): Promise<string> {
  const manifestText = await readFile(join(base, BundleLayout.manifest), 'utf8');
  const key = createHash('sha256').update(manifestText).update(debsDir).update(debs.join('\n')).digest('hex').slice(0, 12);
  const out = join(LAB_CACHE, `gpu-bundle-${key}`);
  if (existsSync(join(out, BundleLayout.manifest))) return out;
  const manifest = parseManifest(manifestText, join(base, BundleLayout.manifest));
  const index = manifest.artifacts.find((a) => a.kind === 'repo-metadata' && a.path.endsWith('/Packages'));
  if (!index) throw new Error(`${base} has no Debian repository`);
  const repoPath = index.path.slice(0, -'/Packages'.length);
  const work = `${out}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  // Hard links for the big files; everything rewritten below is removed first so the base is never written through.
  await execa('cp', ['-al', base, work]);
  for (const f of ['Packages', 'Packages.gz', 'Release']) await rm(join(work, repoPath, f), { force: true });
  for (const f of [BundleLayout.manifest, BundleLayout.checksums, BundleLayout.sbom, BundleLayout.lock, BundleLayout.signature, BundleLayout.publicKey]) await rm(join(work, f), { force: true });
  const added = [];
  for (const deb of debs) {
    await copyFile(join(debsDir, deb), join(work, repoPath, deb));
    const [name, version] = deb.replace(/_amd64\.deb$/, '').split('_');
    added.push({ kind: 'package' as const, path: `${repoPath}/${deb}`, ...(await hashFile(join(work, repoPath, deb))), source: 'stand-in', name: name!, version: version!, arch: 'amd64' });
  }
  const metadata = await indexFlatRepo(join(work, repoPath), repoPath, `${work}.index`);
  await rm(`${work}.index`, { recursive: true, force: true });
  const kept = manifest.artifacts.filter((a) => !(a.kind === 'repo-metadata' && a.path.startsWith(`${repoPath}/`)));
  await sealBundle({
    dir: work, name: `${manifest.name}-gpu`, createdAt: new Date(manifest.createdAt), platform: manifest.platform, osId: 'debian',
    lockText: await readFile(join(base, BundleLayout.lock), 'utf8'), artifacts: [...kept, ...added, ...metadata], toolVersion: 'test',
  });
  await rm(out, { recursive: true, force: true });
  await rename(work, out);
  return out;
}
