// What a bundle's OCI layout holds, as the seeder and the verifier need it: per image its manifests (children
// before the index that names them) and blobs, and the repository/tag it gets in the local registry. Pure.
import { parseManifest, type Descriptor } from '../registry-client/manifest.ts';
import { CRITICAL, REF_NAME } from '../bundle/sources/oci-layout.ts';
import { localRepository } from '../render/local-image.ts';
import { parseImageReference } from '../registry-client/reference.ts';
import { UserError } from '../errors.ts';

export interface PlannedManifest {
  digest: string;
  mediaType: string;
  size: number;
}

export interface PlannedImage {
  /** The full original reference (index.json ref.name annotation). */
  ref: string;
  /** Repository in the local registry (local-image.ts convention). */
  repository: string;
  /** Tag to put, when the reference has one. */
  tag?: string;
  /** The top manifest (what the reference resolves to). */
  digest: string;
  /** Every manifest to put, children first, the top one last. */
  manifests: PlannedManifest[];
  /** Every config and layer blob, each once. */
  blobs: { digest: string; size: number }[];
  critical: boolean;
}

/** Reads manifest bytes by digest (the source checks the bytes hash to the digest). */
export type ManifestSource = (digest: string) => Uint8Array | Promise<Uint8Array>;

/** Turns index.json and the manifests it reaches into the push plan; refuses entries without a ref.name. */
export async function planLayout(indexJson: string, readManifest: ManifestSource): Promise<PlannedImage[]> {
  let index: { manifests?: Descriptor[] };
  try {
    index = JSON.parse(indexJson);
  } catch {
    throw new UserError('images/index.json is not JSON', { hint: 'the bundle is damaged: run ferry bundle verify' });
  }
  const images: PlannedImage[] = [];
  for (const top of index.manifests ?? []) {
    const ref = top.annotations?.[REF_NAME];
    if (!ref) throw new UserError(`images/index.json: manifest ${top.digest} has no ${REF_NAME} annotation`);
    const name = parseImageReference(ref);
    const manifests: PlannedManifest[] = [];
    const blobs = new Map<string, number>();
    const walk = async (d: Descriptor): Promise<void> => {
      const parsed = parseManifest(await readManifest(d.digest), d.mediaType, `${ref}@${d.digest}`);
      if (parsed.kind === 'index') for (const child of parsed.manifests) await walk(child);
      else for (const b of [parsed.config, ...parsed.layers]) blobs.set(b.digest, b.size);
      manifests.push({ digest: d.digest, mediaType: d.mediaType, size: d.size });
    };
    await walk(top);
    images.push({
      ref,
      repository: localRepository(ref),
      ...(name.tag === undefined ? {} : { tag: name.tag }),
      digest: top.digest,
      manifests,
      blobs: [...blobs].map(([digest, size]) => ({ digest, size })),
      critical: top.annotations?.[CRITICAL] === 'true',
    });
  }
  return images;
}
