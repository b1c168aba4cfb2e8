// Delta bundles: which artifacts a new build must carry given the manifest of the bundle already on the other side
// (pure), and delta.yaml, the note that tells `ferry bundle apply` what to take from the delta and what to drop.
import { stringify } from 'yaml';
import { z } from 'zod';
import { parseYaml } from '../config/parse.ts';
import type { Artifact } from './artifact.ts';
import { METADATA_YAML_LIMITS, type BundleManifest } from './manifest.ts';

export const DeltaNote = z
  .object({
    apiVersion: z.literal('ferry.dev/v1alpha1'),
    kind: z.literal('BundleDelta'),
    base: z.object({ manifestSha256: z.string().regex(/^[0-9a-f]{64}$/), name: z.string(), createdAt: z.string() }).strict(),
    /** Paths this delta carries (new or changed artifacts, and the documents). */
    carried: z.array(z.string()),
    /** Paths of the base that the new bundle no longer has. */
    removed: z.array(z.string()),
  })
  .strict();
export type DeltaNote = z.infer<typeof DeltaNote>;

/** Splits a build's artifacts into those the base already has (same path, size and sha256) and those to carry. */
export function planDelta(base: BundleManifest, artifacts: readonly Artifact[]): { carried: Artifact[]; unchanged: Artifact[]; removed: string[] } {
  const old = new Map(base.artifacts.map((a) => [a.path, a]));
  const carried: Artifact[] = [];
  const unchanged: Artifact[] = [];
  for (const a of artifacts) {
    const b = old.get(a.path);
    if (b && b.sha256 === a.sha256 && b.size === a.size) unchanged.push(a);
    else carried.push(a);
  }
  const now = new Set(artifacts.map((a) => a.path));
  const removed = base.artifacts.map((a) => a.path).filter((p) => !now.has(p));
  return { carried, unchanged, removed };
}

/** Renders delta.yaml. */
export function renderDeltaNote(note: DeltaNote): string {
  return stringify(DeltaNote.parse(note), { lineWidth: 0 });
}

/** Parses delta.yaml with file:line errors. */
export function parseDeltaNote(text: string, file: string): DeltaNote {
  return parseYaml(text, file, DeltaNote, METADATA_YAML_LIMITS);
}
