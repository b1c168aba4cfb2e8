// Points every `image:` in a Kubernetes manifest at the cluster's local registry, and lists the images it found
// (so the bundle carries them). Pure, line-based, so comments and formatting of upstream manifests survive.
// Local names follow the one convention in src/render/local-image.ts (the upstream host stays in the path).
import { formatImageReference, parseImageReference } from '../registry-client/reference.ts';
import { localImageRef } from '../render/local-image.ts';

const IMAGE_LINE = /^(\s*(?:-\s+)?image:\s*)(["']?)([^\s"'#]+)\2(\s*(?:#.*)?)$/;

/** Rewrites `image:` values to `<localRegistry>/<upstream host>/<path><tag|digest>`; returns the new text and the original refs. */
export function rewriteManifestImages(text: string, localRegistry: string): { text: string; images: string[] } {
  const images = new Set<string>();
  const lines = text.split('\n').map((line) => {
    const m = IMAGE_LINE.exec(line);
    if (!m || m[3]!.includes('{{') || m[3]!.startsWith('$')) return line;
    const ref = m[3]!;
    const parsed = parseImageReference(ref);
    if (parsed.registry === localRegistry) return line;
    images.add(formatImageReference(parsed));
    return `${m[1]}${m[2]}${localImageRef(ref, localRegistry)}${m[2]}${m[4]}`;
  });
  return { text: lines.join('\n'), images: [...images].sort() };
}
