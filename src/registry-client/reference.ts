// Image references as people write them (`nginx`, `registry.k8s.io/pause:3.10`, `host:5000/a/b@sha256:…`),
// normalised the way docker/distribution's reference package does. Pure.
import { UserError } from '../errors.ts';

export interface ImageReference {
  /** Registry host as named in the reference (`docker.io`, `registry.k8s.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Repository path inside the registry (`library/nginx`). */
  repository: string;
  tag?: string;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

function bad(ref: string, why: string): UserError {
  return new UserError(`invalid image reference ${JSON.stringify(ref)}: ${why}`, {
    hint: 'write it as [registry[:port]/]repository[:tag][@sha256:<64 hex>], e.g. registry.k8s.io/pause:3.10',
  });
}

/** Parse and normalise one reference; docker.io and `library/` are filled in as docker does. */
export function parseImageReference(ref: string): ImageReference {
  let rest = ref.trim();
  if (rest === '') throw bad(ref, 'empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(ref, 'the digest must be sha256: and 64 lowercase hex digits');
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  let registry = hasHost ? first : DOCKER_HUB;
  let path = hasHost ? rest.slice(slash + 1) : rest;
  if (!HOST.test(registry)) throw bad(ref, `bad registry host ${JSON.stringify(registry)}`);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `bad tag ${JSON.stringify(tag)}`);
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (path === '' || !path.split('/').every((c) => COMPONENT.test(c))) {
    throw bad(ref, 'the repository must be lowercase path components of letters, digits and separators');
  }
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository: path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The fully qualified form (`docker.io/library/nginx:latest`): the name an image gets in the bundle. */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** What to ask the registry for: the digest when pinned (it wins over the tag), else the tag. */
export function manifestSelector(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
