// How an upstream image name maps into ferry's local registry: the one place this convention lives, so the
// registry seeder, containerd hosts.toml, CRI-O registries.conf and kubeadm all agree.
//
// Convention: registry.k8s.io/pause:3.10 is stored in the local registry as repository
// `registry.k8s.io/pause`, docker.io/library/nginx as `docker.io/library/nginx`. Keeping the upstream host as
// the first path component means two upstreams can never collide in one local registry.
import { formatImageReference, parseImageReference } from '../registry-client/reference.ts';

/** Repository name inside the local registry for an upstream image (see the convention above). */
export function localRepository(ref: string): string {
  const { registry, repository } = parseImageReference(ref);
  return `${registry}/${repository}`;
}

/** The full reference a node uses to pull `ref` straight from a local registry at `registry` (host:port). */
export function localImageRef(ref: string, registry: string): string {
  return `${registry}/${formatImageReference(parseImageReference(ref))}`;
}

/** Every upstream registry named by the images, sorted: each gets a hosts.toml / registries.conf entry. */
export function upstreamRegistries(refs: readonly string[]): string[] {
  return [...new Set(refs.map((r) => parseImageReference(r).registry))].sort();
}
