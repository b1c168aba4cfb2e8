// The machine-readable primary sources `ferry matrix refresh` reads, one per publisher and component. Every URL is
// the project's, vendor's or distribution's own; rules that need a human reading are never derived from them.

export type TagComponent = 'containerd' | 'runc' | 'cri-o' | 'calico' | 'cilium' | 'flannel';

export type RefreshSource =
  | { id: 'kubernetes'; kind: 'k8s-schedule'; schedule: string; eol: string }
  | { id: TagComponent; kind: 'git-tags'; repo: string }
  | { id: 'runc-advisories'; kind: 'gh-advisories'; url: string; repo: string }
  | { id: 'nvidia'; kind: 'nvidia-redist'; index: string }
  | { id: 'ubuntu'; kind: 'ubuntu-meta-release'; url: string };

/** Git tags are read the way `git ls-remote` reads them: the smart-HTTP ref advertisement of the repository. */
export const refsUrl = (repo: string) => `${repo}.git/info/refs?service=git-upload-pack`;

export const SOURCES: readonly RefreshSource[] = [
  {
    id: 'kubernetes',
    kind: 'k8s-schedule',
    schedule: 'https://raw.githubusercontent.com/kubernetes/website/main/data/releases/schedule.yaml',
    eol: 'https://raw.githubusercontent.com/kubernetes/website/main/data/releases/eol.yaml',
  },
  { id: 'containerd', kind: 'git-tags', repo: 'https://github.com/containerd/containerd' },
  { id: 'runc', kind: 'git-tags', repo: 'https://github.com/opencontainers/runc' },
  { id: 'cri-o', kind: 'git-tags', repo: 'https://github.com/cri-o/cri-o' },
  { id: 'calico', kind: 'git-tags', repo: 'https://github.com/projectcalico/calico' },
  { id: 'cilium', kind: 'git-tags', repo: 'https://github.com/cilium/cilium' },
  { id: 'flannel', kind: 'git-tags', repo: 'https://github.com/flannel-io/flannel' },
  {
    id: 'runc-advisories',
    kind: 'gh-advisories',
    url: 'https://api.github.com/repos/opencontainers/runc/security-advisories?state=published&per_page=100',
    repo: 'https://github.com/opencontainers/runc',
  },
  { id: 'nvidia', kind: 'nvidia-redist', index: 'https://developer.download.nvidia.com/compute/nvidia-driver/redist/' },
  { id: 'ubuntu', kind: 'ubuntu-meta-release', url: 'https://changelogs.ubuntu.com/meta-release' },
];

/** Every URL a source reads. */
export function sourceUrls(s: RefreshSource): string[] {
  switch (s.kind) {
    case 'k8s-schedule':
      return [s.schedule, s.eol];
    case 'git-tags':
      return [refsUrl(s.repo)];
    case 'gh-advisories':
      return [s.url];
    case 'nvidia-redist':
      return [s.index];
    case 'ubuntu-meta-release':
      return [s.url];
  }
}

/**
 * Where a URL is fetched from: `--mirror FROM=TO` prefixes first (longest wins), else `--source-base BASE`, which
 * serves `https://host/path` as `BASE/host/path` (how the tests point refresh at a loopback server).
 */
export function mappedUrl(url: string, opts: { base?: string | undefined; mirrors?: readonly [string, string][] }): string {
  const mirror = [...(opts.mirrors ?? [])].sort((a, b) => b[0].length - a[0].length).find(([from]) => url.startsWith(from));
  if (mirror) return mirror[1] + url.slice(mirror[0].length);
  if (opts.base) return `${opts.base.replace(/\/+$/, '')}/${url.replace(/^https?:\/\//, '')}`;
  return url;
}
