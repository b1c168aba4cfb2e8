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
    /** Artifacts the base has under another path (same sha256): apply copies them inside the bundle. */
    moved: z.array(z.object({ path: z.string(), from: z.string() }).strict()).optional(),
  })
  .strict();
export type DeltaNote = z.infer<typeof DeltaNote>;

export interface DeltaPlan {
  /** Artifacts whose sha256 the base does not have: the delta carries them. */
  carried: Artifact[];
  /** Artifacts the base has at the same path. */
  unchanged: Artifact[];
  /** Artifacts the base has under another path (same sha256 and size): copied from there on apply. */
  moved: { artifact: Artifact; from: string }[];
  /** Paths of the base that the new bundle no longer has. */
  removed: string[];
}

/** Splits a build's artifacts by digest: only those whose sha256 (and size) is nowhere in the base are carried. */
export function planDelta(base: BundleManifest, artifacts: readonly Artifact[]): DeltaPlan {
  const atPath = new Map(base.artifacts.map((a) => [a.path, a]));
  const byDigest = new Map<string, string>();
  for (const a of base.artifacts) if (!byDigest.has(`${a.sha256}:${a.size}`)) byDigest.set(`${a.sha256}:${a.size}`, a.path);
  const plan: DeltaPlan = { carried: [], unchanged: [], moved: [], removed: [] };
  for (const a of artifacts) {
    const same = atPath.get(a.path);
    const from = byDigest.get(`${a.sha256}:${a.size}`);
    if (same && same.sha256 === a.sha256 && same.size === a.size) plan.unchanged.push(a);
    else if (from) plan.moved.push({ artifact: a, from });
    else plan.carried.push(a);
  }
  const now = new Set(artifacts.map((a) => a.path));
  plan.removed = base.artifacts.map((a) => a.path).filter((p) => !now.has(p));
  return plan;
}

/** What `ferry bundle verify` says about a delta: what it is a delta of, and what it leaves to its base. */
export function describeDelta(note: DeltaNote, artifactPaths: readonly string[]): string {
  const carried = new Set(note.carried);
  const left = artifactPaths.filter((p) => !carried.has(p)).length;
  const moved = note.moved?.length ? ` (${note.moved.length} of them under another path there)` : '';
  return (
    `delta of bundle "${note.base.name}" built ${note.base.createdAt} (base manifest.yaml sha256 ${note.base.manifestSha256}): ` +
    `carries ${note.carried.length} file(s), leaves ${left} artifact(s) to the base${moved}, removes ${note.removed.length}; ` +
    'ferry bundle apply DELTA --onto BASE makes the full bundle and checks what the base gave'
  );
}

/** Renders delta.yaml. */
export function renderDeltaNote(note: DeltaNote): string {
  return stringify(DeltaNote.parse(note), { lineWidth: 0 });
}

/** Parses delta.yaml with file:line errors. */
export function parseDeltaNote(text: string, file: string): DeltaNote {
  return parseYaml(text, file, DeltaNote, METADATA_YAML_LIMITS);
}
