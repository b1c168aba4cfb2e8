// Resolve a reference to the one image manifest for a platform: follow a multi-platform index down to the
// platform's manifest, keeping both documents' exact bytes (their digests are what registries serve).
import { UserError } from '../errors.ts';
import type { FetchedManifest, RegistryClient } from './client.ts';
import { listPlatforms, parseManifest, selectPlatform, type Descriptor, type Platform } from './manifest.ts';
import { formatImageReference, manifestSelector, type ImageReference } from './reference.ts';

export interface ResolvedImage {
  ref: ImageReference;
  /** The image manifest for the platform, byte for byte. */
  manifest: FetchedManifest & { mediaType: string };
  config: Descriptor;
  layers: Descriptor[];
  /** The index the reference pointed at, when it was multi-platform; its entry for the platform when so. */
  index?: FetchedManifest & { mediaType: string };
  platform?: Platform;
}

/** Fetch the manifest `ref` names and, if it is an index, the manifest in it for `platform`. */
export async function resolveImage(client: RegistryClient, ref: ImageReference, platform: Platform): Promise<ResolvedImage> {
  const name = formatImageReference(ref);
  const top = await client.getManifest(ref, manifestSelector(ref));
  const parsed = parseManifest(top.bytes, top.contentType, name);
  if (parsed.kind === 'image') {
    return { ref, manifest: { ...top, mediaType: parsed.mediaType }, config: parsed.config, layers: parsed.layers };
  }
  const chosen = selectPlatform(parsed.manifests, platform);
  const want = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
  if (!chosen) {
    throw new UserError(`${name} has no image for ${want}; it offers ${listPlatforms(parsed.manifests).join(', ') || 'no platforms'}`, {
      hint: 'pick a tag built for the locked platform, or mirror such an image under another name',
    });
  }
  const child = await client.getManifest(ref, chosen.digest);
  const inner = parseManifest(child.bytes, child.contentType, `${name}@${chosen.digest}`);
  if (inner.kind !== 'image') throw new UserError(`${name}: the ${want} entry of its index is itself an index`);
  return {
    ref,
    manifest: { ...child, mediaType: inner.mediaType },
    config: inner.config,
    layers: inner.layers,
    index: { ...top, mediaType: parsed.mediaType },
    ...(chosen.platform ? { platform: chosen.platform } : {}),
  };
}
