// Put the STAND-IN .debs into a built bundle's flat Debian repo and make the bundle whole again with ferry's own
// code: the repo index (indexFlatRepo), then manifest, SBOM and SHA256SUMS (sealBundle, via resealBundle). The product then installs
// kubeadm/kubelet/kubectl from its repo exactly as on a site. Test code only.
import { copyFile, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { execa } from 'execa';
import type { Artifact } from '../../src/bundle/artifact.ts';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { parseManifest } from '../../src/bundle/manifest.ts';
import { indexFlatRepo } from '../../src/bundle/sources/deb.ts';
import { hashFile } from '../../src/util/hash.ts';
import { resealBundle } from '../support/reseal-bundle.ts';

/** Add `debs` (paths) to the bundle's Debian repo and re-seal it; signed again only when `signing` is given
 * (without it the old signature, which no longer matches, is removed). Returns the repo path inside the bundle. */
export async function addDebsToBundle(
  bundleDir: string,
  debs: readonly string[],
  options: { workDir: string; signing?: { privateKey: KeyObject; publicPem: string } },
): Promise<string> {
  const manifestText = await readFile(join(bundleDir, BundleLayout.manifest), 'utf8');
  const manifest = parseManifest(manifestText, join(bundleDir, BundleLayout.manifest));
  const index = manifest.artifacts.find((a) => a.kind === 'repo-metadata' && a.path.endsWith('/Packages') && a.path.startsWith(`${BundleLayout.packagesDir}/`));
  if (!index) throw new Error(`${bundleDir} has no Debian package repo to add the stand-ins to`);
  const repoPath = index.path.slice(0, -'/Packages'.length);
  const repoDir = join(bundleDir, repoPath);
  const added: Artifact[] = [];
  for (const deb of debs) {
    const file = basename(deb);
    await copyFile(deb, join(repoDir, file));
    const fields = (await execa('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture'])).stdout;
    const get = (k: string) => new RegExp(`^${k}: (.+)$`, 'm').exec(fields)![1]!;
    added.push({ kind: 'package', path: `${repoPath}/${file}`, ...(await hashFile(join(repoDir, file))), source: 'ferry test stand-ins (local .deb)', name: get('Package'), version: get('Version'), arch: get('Architecture') });
  }
  await resealBundle(bundleDir, [...added, ...(await indexFlatRepo(repoDir, repoPath, options.workDir))], options.signing ? { signing: options.signing } : {});
  return repoPath;
}
