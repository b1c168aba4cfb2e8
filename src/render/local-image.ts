// How an upstream image name maps into ferry's local registry: the one place this convention lives, so the
// registry seeder, containerd hosts.toml, CRI-O registries.conf and kubeadm all agree.
//
// Convention: registry.k8s.io/pause:3.10 is stored in the local registry as repository
// `registry.k8s.io/pause`, docker.io/library/nginx as `docker.io/library/nginx`. Keeping the upstream host as
// the first path component means two upstreams can never collide in one local registry.
import { UserError } from '../errors.ts';

/** An image reference split the way docker/distribution's reference.ParseNormalizedNamed does. */
export interface ImageName {
  /** Upstream registry host (with port if any), `docker.io` for Docker Hub. */
  domain: string;
  /** Repository path inside that registry, e.g. `library/nginx`. */
  path: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = 'docker.io';

/** Parses and normalizes an image reference (`nginx` → docker.io/library/nginx:latest is NOT assumed: no tag stays no tag). */
export function parseImageName(ref: string): ImageName {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  let name = at >= 0 ? ref.slice(0, at) : ref;
  let tag: string | undefined;
  const lastColon = name.lastIndexOf(':');
  if (lastColon > name.lastIndexOf('/')) {
    tag = name.slice(lastColon + 1);
    name = name.slice(0, lastColon);
  }
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  let domain = DOCKER_HUB;
  let path = name;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first;
    path = name.slice(slash + 1);
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  const valid =
    /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path) &&
    (tag === undefined || /^\w[\w.-]{0,127}$/.test(tag)) &&
    (digest === undefined || /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/.test(digest));
  if (!valid) throw new UserError(`not a valid image reference: ${JSON.stringify(ref)}`);
  return { domain, path, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** Repository name inside the local registry for an upstream image (see the convention above). */
export function localRepository(ref: string): string {
  const { domain, path } = parseImageName(ref);
  return `${domain}/${path}`;
}

/** The full reference a node uses to pull `ref` straight from a local registry at `registry` (host:port). */
export function localImageRef(ref: string, registry: string): string {
  const image = parseImageName(ref);
  const suffix = `${image.tag === undefined ? '' : `:${image.tag}`}${image.digest === undefined ? '' : `@${image.digest}`}`;
  return `${registry}/${image.domain}/${image.path}${suffix}`;
}

/** Every upstream registry named by the images, sorted: each gets a hosts.toml / registries.conf entry. */
export function upstreamRegistries(refs: readonly string[]): string[] {
  return [...new Set(refs.map((r) => parseImageName(r).domain))].sort();
}
