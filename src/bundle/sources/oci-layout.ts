// The bundle's one OCI image layout, as data: `oci-layout` and `index.json` with one entry per image reference.
// Pure: the caller writes the bytes.
import { MediaType, type Platform } from '../../registry-client/manifest.ts';

/** Annotation holding the full original reference (`registry.k8s.io/pause:3.10`), read by skopeo, containerd and the seeding. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** Annotation marking an image the cluster must never lose (pinned at install so kubelet GC keeps it). */
export const CRITICAL = 'dev.ferry.image.critical';
/** Annotation holding the digest the tag pointed at upstream when that was a multi-platform index. */
export const UPSTREAM_INDEX_DIGEST = 'dev.ferry.image.index.digest';

export interface LayoutImage {
  /** Fully qualified reference. */
  name: string;
  manifest: { mediaType: string; digest: string; size: number };
  platform?: Platform;
  /** The upstream index the tag resolved to, when there was one (its bytes are kept as a blob too). */
  indexDigest?: string;
  critical?: boolean;
}

/** The bytes of `oci-layout`. */
export function ociLayoutFile(): string {
  return `${JSON.stringify({ imageLayoutVersion: MediaType.ociLayout })}\n`;
}

/** The bytes of `index.json`: entries sorted by name so the same images give the same file. */
export function ociIndexFile(images: readonly LayoutImage[]): string {
  const manifests = [...images]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((image) => ({
      mediaType: image.manifest.mediaType,
      digest: image.manifest.digest,
      size: image.manifest.size,
      ...(image.platform ? { platform: image.platform } : {}),
      annotations: {
        [REF_NAME]: image.name,
        ...(image.indexDigest ? { [UPSTREAM_INDEX_DIGEST]: image.indexDigest } : {}),
        ...(image.critical ? { [CRITICAL]: 'true' } : {}),
      },
    }));
  return `${JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, null, 2)}\n`;
}
