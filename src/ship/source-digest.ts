// The digest of everything the single executable is built from, so a built dist/ferry can be told current or stale.
import { createHash } from 'node:crypto';

/** Paths (relative to the repo root) whose content goes into the executable: code, matrices, playbooks, shipped scripts, deps. */
export const SEA_INPUTS = { dirs: ['src', 'matrices', 'playbooks', 'bundles'], files: ['scripts/build-sea.ts', 'package.json', 'package-lock.json'] } as const;

/** sha256 over (path, content) pairs, independent of the order they were read in; pure. */
export function sourceDigest(files: readonly { path: string; content: Uint8Array }[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`${f.path}\0${f.content.length}\0`);
    hash.update(f.content);
  }
  return hash.digest('hex');
}
