// manifest.yaml: the signed list of everything in a bundle (artifacts and the documents beside them). Pure.
import { stringify } from 'yaml';
import { z } from 'zod';
import { INPUT_LIMITS, parseYaml, type YamlLimits } from '../config/parse.ts';
import type { Artifact } from './artifact.ts';

export const MANIFEST_API_VERSION = 'ferry.dev/v1alpha1';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256)');
const bundlePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').some((s) => s === '..' || s === '.' || s === ''), {
    message: 'must be a relative path inside the bundle without . or .. segments',
  });

export const ManifestArtifact = z
  .object({
    kind: z.enum(['package', 'repo-metadata', 'image-blob', 'image-index', 'file', 'manifest', 'binary']),
    path: bundlePath,
    size: z.number().int().nonnegative(),
    sha256: sha256Hex,
    source: z.string(),
    name: z.string().optional(),
    version: z.string().optional(),
    release: z.string().optional(),
    arch: z.string().optional(),
    digest: z.string().optional(),
  })
  .strict();

/** A file that describes the bundle (the lock, the SBOM): checked like an artifact, not listed in the SBOM. */
export const ManifestDocument = z.object({ path: bundlePath, size: z.number().int().nonnegative(), sha256: sha256Hex }).strict();
export type ManifestDocument = z.infer<typeof ManifestDocument>;

/**
 * Which site facts a bundle built with `--site` covers: the nodes it was built for (OS, arch, kernel, GPU, the
 * sha256 of each installed set), the GPU kernels it carries the driver for, the OS versions, and the closure: with
 * `installed`, the package set every node had (left out of the bundle), as `name version arch` lines with their sha256.
 * `siteCoverage` (src/bundle/site-coverage.ts) judges a node against it.
 */
export const SiteRecord = z
  .object({
    cluster: z.string().nullable(),
    /** When doctor read the nodes. */
    generatedAt: z.string(),
    os: z.object({ id: z.string(), version: z.string(), family: z.enum(['el', 'debian']) }).strict(),
    nodes: z
      .array(z.object({ name: z.string(), os: z.string(), arch: z.string(), kernel: z.string(), gpu: z.boolean(), packages: sha256Hex.optional() }).strict()),
    /** GPU node kernels the driver is carried for (also in gpuDrivers, with how). */
    kernels: z.array(z.string()),
    /** The nodes' OS versions (one: a bundle serves one release; EL with its minor, the {releasever}). */
    osVersions: z.array(z.string()),
    closure: z.enum(['full', 'installed']),
    installed: z.object({ manager: z.enum(['dpkg', 'rpm']), sha256: sha256Hex, packages: z.array(z.string()) }).strict().optional(),
  })
  .strict();
export type SiteRecord = z.infer<typeof SiteRecord>;

export const BundleManifest = z
  .object({
    apiVersion: z.literal(MANIFEST_API_VERSION),
    kind: z.literal('BundleManifest'),
    name: z.string(),
    createdAt: z.string(),
    platform: z.string(),
    /** Set in a delta build: the sha256 of the manifest.yaml this bundle was built against. */
    base: z.object({ manifestSha256: sha256Hex, name: z.string(), createdAt: z.string() }).strict().optional(),
    /** GPU bundles: per node kernel, whether the NVIDIA driver is carried precompiled or as DKMS with the kernel's
     * headers, and the package that shows it (src/bundle/gpu-drivers.ts); install follows this decision. */
    gpuDrivers: z
      .array(z.object({ kernel: z.string(), kind: z.enum(['precompiled', 'dkms']), package: z.string() }).strict())
      .optional(),
    /** Built with `--site`: the site facts the bundle covers. */
    site: SiteRecord.optional(),
    documents: z.array(ManifestDocument),
    artifacts: z.array(ManifestArtifact),
  })
  .strict()
  .superRefine((m, ctx) => {
    const seen = new Map<string, string>();
    const all = [...m.documents.map((d, i) => ['documents', i, d.path] as const), ...m.artifacts.map((a, i) => ['artifacts', i, a.path] as const)];
    for (const [list, i, path] of all) {
      const first = seen.get(path);
      if (first) ctx.addIssue({ code: 'custom', path: [list, i, 'path'], message: `duplicates ${first}` });
      else seen.set(path, `${list}[${i}]`);
    }
  });
export type BundleManifest = z.infer<typeof BundleManifest>;

/** Sorts artifacts by path, so the same content always renders to the same bytes (and the same signature). */
export function sortArtifacts(artifacts: readonly Artifact[]): Artifact[] {
  return [...artifacts].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Renders a manifest to the exact bytes that are written, hashed and signed. */
export function renderManifest(manifest: BundleManifest): string {
  const clean = BundleManifest.parse(manifest);
  return stringify(clean, { lineWidth: 0 });
}

/** Metadata a bundle writes for itself (manifest, delta note) lists every file: larger than a person's input may be. */
export const METADATA_YAML_LIMITS: YamlLimits = { ...INPUT_LIMITS, maxBytes: 256 << 20 };

/** Parses manifest.yaml text; problems name file, line and field. */
export function parseManifest(text: string, file: string): BundleManifest {
  return parseYaml(text, file, BundleManifest, METADATA_YAML_LIMITS);
}

/** Every file the manifest vouches for: documents first, then artifacts. */
export function manifestEntries(manifest: BundleManifest): { path: string; size: number; sha256: string }[] {
  return [...manifest.documents, ...manifest.artifacts].map(({ path, size, sha256 }) => ({ path, size, sha256 }));
}
