// Points every `image:` in a Kubernetes manifest at the cluster's local registry, and lists the images it found
// (so the bundle carries them). Pure, line-based, so comments and formatting of upstream manifests survive.

/** A reference split into registry host, repository path and the tag/digest suffix (docker's normalisation). */
export function splitImageRef(ref: string): { registry: string; path: string; suffix: string } {
  const at = ref.indexOf('@');
  let rest = at >= 0 ? ref.slice(0, at) : ref;
  let suffix = at >= 0 ? ref.slice(at) : '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    suffix = rest.slice(colon) + suffix;
    rest = rest.slice(0, colon);
  }
  const first = rest.split('/')[0]!;
  const hasRegistry = rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : 'docker.io';
  let path = hasRegistry ? rest.slice(first.length + 1) : rest;
  if (registry === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return { registry, path, suffix: suffix || ':latest' };
}

/** The fully qualified form of a reference (docker.io/library/nginx:latest for nginx). */
export function normalizeImageRef(ref: string): string {
  const { registry, path, suffix } = splitImageRef(ref);
  return `${registry}/${path}${suffix}`;
}

const IMAGE_LINE = /^(\s*(?:-\s+)?image:\s*)(["']?)([^\s"'#]+)\2(\s*(?:#.*)?)$/;

/** Rewrites `image:` values to `<localRegistry>/<path><tag|digest>`; returns the new text and the original refs. */
export function rewriteManifestImages(text: string, localRegistry: string): { text: string; images: string[] } {
  const images = new Set<string>();
  const lines = text.split('\n').map((line) => {
    const m = IMAGE_LINE.exec(line);
    if (!m || m[3]!.includes('{{') || m[3]!.startsWith('$')) return line;
    const ref = m[3]!;
    const { registry, path, suffix } = splitImageRef(ref);
    if (registry === localRegistry) return line;
    images.add(`${registry}/${path}${suffix}`);
    return `${m[1]}${m[2]}${localRegistry}/${path}${suffix}${m[2]}${m[4]}`;
  });
  return { text: lines.join('\n'), images: [...images].sort() };
}
