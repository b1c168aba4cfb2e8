// Which bundle files a node needs and where they live on it. Pure: manifest and lock in, paths out.
import type { BundleManifest } from '../bundle/manifest.ts';
import { BundleLayout } from '../bundle/layout.ts';
import { FERRY_STATE_DIR } from './os/family.ts';

/** The bundle's copy on every node. */
export const NODE_BUNDLE_DIR = `${FERRY_STATE_DIR}/bundle`;

export interface NodeBundleFile {
  /** Path inside the bundle (and under NODE_BUNDLE_DIR on the node). */
  path: string;
  size: number;
  sha256: string;
}

/** The prefix of the OS package repository for the lock's OS, e.g. `packages/debian-12/`. */
export function osPackagesPrefix(os: { id: string; version: string }): string {
  return `${BundleLayout.packagesDir}/${os.id}-${os.version}/`;
}

/** Files a node needs: its OS package repository and the plain files (binaries); not images (the registry's). */
export function nodeBundleFiles(manifest: BundleManifest, os: { id: string; version: string }): NodeBundleFile[] {
  const prefix = osPackagesPrefix(os);
  return manifest.artifacts
    .filter((a) => ((a.kind === 'package' || a.kind === 'repo-metadata') && a.path.startsWith(prefix)) || a.kind === 'file')
    .map(({ path, size, sha256 }) => ({ path, size, sha256 }));
}

/** The repository directory on the node: where its metadata (Packages, or repodata/) sits. */
export function nodeRepoDir(manifest: BundleManifest, os: { id: string; version: string }): string | undefined {
  const prefix = osPackagesPrefix(os);
  const meta = manifest.artifacts.find((a) => a.kind === 'repo-metadata' && a.path.startsWith(prefix) && /(^|\/)(Packages|repodata\/repomd\.xml)$/.test(a.path));
  if (!meta) return undefined;
  const dir = meta.path.replace(/\/(Packages|repodata\/repomd\.xml)$/, '');
  return `${NODE_BUNDLE_DIR}/${dir}`;
}

/** GPG key files at the top of the repository (RPM-GPG-KEY-*, *.gpg), which let the package manager check signatures. */
export function repoGpgKeys(manifest: BundleManifest, os: { id: string; version: string }, repoDir: string): string[] {
  const rel = repoDir.slice(NODE_BUNDLE_DIR.length + 1);
  return manifest.artifacts
    .map((a) => a.path)
    .filter((p) => p.startsWith(`${rel}/`) && !p.slice(rel.length + 1).includes('/'))
    .map((p) => p.slice(rel.length + 1))
    .filter((name) => /^RPM-GPG-KEY-|\.gpg$/.test(name))
    .sort();
}

/** sha256sum -c input for these files, relative to NODE_BUNDLE_DIR. */
export function checksumList(files: readonly NodeBundleFile[]): string {
  return files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
}

/** Paths `sha256sum -c --quiet` reported as failed (missing or different). */
export function failedChecks(output: string): Set<string> {
  const out = new Set<string>();
  for (const line of output.split('\n')) {
    const m = /^(.+): FAILED( open or read)?$/.exec(line);
    if (m) out.add(m[1]!);
  }
  return out;
}
