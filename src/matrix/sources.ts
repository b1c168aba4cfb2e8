// Which sources count as primary for a matrix fact: the project's own repository, docs and release pages, the
// vendor's own documentation and download indexes, the distribution's own release and lifecycle pages. Anything
// else (other projects' deployment files, forums, blogs, aggregators) may point the way but never verifies. Pure.

/** URL prefixes (scheme and `www.` stripped) of primary sources, one per publisher. */
export const PRIMARY_SOURCES: readonly string[] = [
  // Kubernetes
  'kubernetes.io/',
  'github.com/kubernetes/',
  'dl.k8s.io/',
  // container runtimes
  'github.com/containerd/',
  'github.com/opencontainers/',
  'github.com/cri-o/',
  // CNIs
  'github.com/projectcalico/',
  'github.com/orgs/projectcalico/',
  'docs.tigera.io/',
  'github.com/cilium/',
  'docs.cilium.io/',
  'github.com/flannel-io/',
  // NVIDIA
  'docs.nvidia.com/',
  'developer.download.nvidia.com/',
  'developer.nvidia.com/',
  'nvidia.com/',
  'github.com/NVIDIA/',
  // distributions
  'access.redhat.com/',
  'docs.redhat.com/',
  'gitlab.com/redhat/centos-stream/',
  'wiki.rockylinux.org/',
  'rockylinux.org/',
  'wiki.almalinux.org/',
  'almalinux.org/',
  'ubuntu.com/',
  'releases.ubuntu.com/',
  'changelogs.ubuntu.com/',
  'debian.org/',
];

/** The URL a `source` names (its first word), or null when it does not start with one. */
export function sourceUrl(source: string): string | null {
  const m = /^(https?:\/\/\S+)/.exec(source.trim());
  return m ? m[1]! : null;
}

/** Is this source a URL of a primary publisher? */
export function isPrimarySource(source: string): boolean {
  const url = sourceUrl(source);
  if (!url) return false;
  const bare = url
    .replace(/^https?:\/\//, '')
    .replace(/^www\./, '')
    // GitHub's raw files and API name the same repository as github.com/OWNER/REPO
    .replace(/^raw\.githubusercontent\.com\//, 'github.com/')
    .replace(/^api\.github\.com\/repos\//, 'github.com/');
  return PRIMARY_SOURCES.some((p) => bare.startsWith(p) || bare.toLowerCase().startsWith(p.toLowerCase()));
}
