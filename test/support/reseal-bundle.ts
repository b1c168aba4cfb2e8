// Test support: a built bundle with artifacts added or replaced, made whole again by ferry's own sealBundle
// (manifest, SBOM, SHA256SUMS, written as new files: a hard-linked copy's originals are never written through) from
// what the bundle already says about itself. Signed again only with `signing`; otherwise sealBundle drops the old
// signature, which no longer matches.
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Artifact } from '../../src/bundle/artifact.ts';
import { BundleLayout } from '../../src/bundle/layout.ts';
import { parseManifest } from '../../src/bundle/manifest.ts';
import { sealBundle } from '../../src/bundle/seal.ts';

/** Seal `dir` again with `added` in place of any artifact of the same path. */
export async function resealBundle(dir: string, added: readonly Artifact[], options: { signing?: { privateKey: KeyObject; publicPem: string } } = {}): Promise<void> {
  const manifest = parseManifest(await readFile(join(dir, BundleLayout.manifest), 'utf8'), join(dir, BundleLayout.manifest));
  const lockText = await readFile(join(dir, BundleLayout.lock), 'utf8');
  const sbom = JSON.parse(await readFile(join(dir, BundleLayout.sbom), 'utf8')) as { creationInfo: { creators: string[] } };
  const tool = sbom.creationInfo.creators.find((c) => c.startsWith('Tool: ferry-'))?.slice('Tool: ferry-'.length) ?? 'unknown';
  const replaced = new Set(added.map((a) => a.path));
  await sealBundle({
    dir, name: manifest.name, createdAt: new Date(manifest.createdAt), platform: manifest.platform,
    osId: (parse(lockText) as { stack: { os: { id: string } } }).stack.os.id, lockText,
    artifacts: [...manifest.artifacts.filter((a) => !replaced.has(a.path)), ...added],
    ...(manifest.base ? { base: manifest.base } : {}), ...(options.signing ? { signing: options.signing } : {}), toolVersion: tool,
  });
}
