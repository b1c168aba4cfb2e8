// Manifest media types and parsing: which documents are indexes, which are image manifests, and what blobs
// they point at. Pure: bytes in, typed data out.
import { UserError } from '../errors.ts';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociLayout: '1.0.0',
} as const;

/** The Accept header for manifest GETs: every format ferry can carry, indexes first. */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.dockerList, MediaType.ociManifest, MediaType.dockerManifest].join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'image'; mediaType: string; config: Descriptor; layers: Descriptor[] };

function isDescriptor(d: unknown): d is Descriptor {
  const x = d as Descriptor;
  return typeof x === 'object' && x !== null && typeof x.digest === 'string' && typeof x.size === 'number' && typeof x.mediaType === 'string';
}

/** Tell an index from an image manifest and list what it references; `contentType` is the registry's header. */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, where: string): ParsedManifest {
  let doc: { mediaType?: string; schemaVersion?: number; manifests?: unknown[]; config?: unknown; layers?: unknown[] };
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new UserError(`${where}: the registry sent a manifest that is not JSON`);
  }
  const header = contentType?.split(';')[0]?.trim();
  const mediaType = doc.mediaType ?? (header && header !== 'application/json' ? header : undefined) ?? '';
  if (mediaType === MediaType.dockerSchema1 || doc.schemaVersion === 1) {
    throw new UserError(`${where}: Docker schema 1 manifests are not supported`, { hint: 'push the image again with a current client, or pick a newer tag' });
  }
  if (Array.isArray(doc.manifests)) {
    if (!doc.manifests.every(isDescriptor)) throw new UserError(`${where}: index has a malformed descriptor`);
    return { kind: 'index', mediaType: mediaType || MediaType.ociIndex, manifests: doc.manifests };
  }
  if (isDescriptor(doc.config) && Array.isArray(doc.layers) && doc.layers.every(isDescriptor)) {
    return { kind: 'image', mediaType: mediaType || MediaType.ociManifest, config: doc.config, layers: doc.layers };
  }
  throw new UserError(`${where}: unknown manifest type ${JSON.stringify(mediaType)}`);
}

/** Parse `linux/amd64` or `linux/arm64/v8` as the lock writes platforms. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...extra] = text.split('/');
  if (!os || !architecture || extra.length > 0) {
    throw new UserError(`invalid platform ${JSON.stringify(text)}`, { hint: 'write it as os/arch[/variant], e.g. linux/amd64' });
  }
  return { os, architecture, ...(variant ? { variant } : {}) };
}

// arm64 images are v8 whether or not the index says so (containerd's platforms.Normalize does the same).
function normalVariant(p: Platform): string | undefined {
  if (p.architecture === 'arm64') return p.variant ?? 'v8';
  return p.variant;
}

/** Pick the one manifest of an index that runs on `want`; undefined when the index has none. */
export function selectPlatform(manifests: readonly Descriptor[], want: Platform): Descriptor | undefined {
  const fits = manifests.filter(
    (d) => d.platform !== undefined && d.platform.os === want.os && d.platform.architecture === want.architecture,
  );
  const variant = normalVariant(want);
  return fits.find((d) => normalVariant(d.platform!) === variant) ?? (want.variant === undefined ? fits[0] : undefined);
}

/** Platforms an index offers, for the error message when the wanted one is missing. */
export function listPlatforms(manifests: readonly Descriptor[]): string[] {
  return manifests.filter((d) => d.platform).map((d) => [d.platform!.os, d.platform!.architecture, d.platform!.variant].filter(Boolean).join('/'));
}
