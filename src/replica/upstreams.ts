// Every upstream the replica stands in for, named in one place: the real URL prefixes of bundles/gpu-cluster.yaml,
// the paths their keys and files sit at, and the hosts real servers redirect to. Pure.

/** URL prefixes the replica serves on loopback (`/<host>/<path>`), as the real hosts publish them. */
export const UPSTREAM = {
  debian: 'http://deb.debian.org/debian',
  debianSecurity: 'http://deb.debian.org/debian-security',
  docker: 'https://download.docker.com/linux/debian',
  /** Docker's armored signing key for its Debian repo. */
  dockerKey: 'https://download.docker.com/linux/debian/gpg',
  /** pkgs.k8s.io's flat repo for one minor; it answers 302 to the CDN below. */
  kubernetes: (minor: string) => `https://pkgs.k8s.io/core:/stable:/v${minor}/deb/`,
  kubernetesCdn: (minor: string) => `https://prod-cdn.packages.k8s.io/repositories/isv:/kubernetes:/core:/stable:/v${minor}/deb/`,
  /** Docker's EL repositories (one key for all of Docker's repos, at each distro's /gpg). */
  dockerEl: (distro: 'rhel' | 'centos', major: string) => `https://download.docker.com/linux/${distro}/${major}/x86_64/stable/`,
  dockerElKey: (distro: 'rhel' | 'centos') => `https://download.docker.com/linux/${distro}/gpg`,
  /** pkgs.k8s.io's RPM repo for one minor (302 to the CDN, like the deb one); its key is repodata/repomd.xml.key. */
  kubernetesRpm: (minor: string) => `https://pkgs.k8s.io/core:/stable:/v${minor}/rpm/`,
  kubernetesRpmCdn: (minor: string) => `https://prod-cdn.packages.k8s.io/repositories/isv:/kubernetes:/core:/stable:/v${minor}/rpm/`,
  /** Rocky Linux: an older minor's BaseOS/AppStream live in the vault; the key under /pub per major. */
  rockyVault: (minor: string, repo: 'BaseOS' | 'AppStream') => `https://dl.rockylinux.org/vault/rocky/${minor}/${repo}/x86_64/os/`,
  rockyKey: (major: string) => `https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-${major}`,
  epel: (major: string) => `https://dl.fedoraproject.org/pub/epel/${major}/Everything/x86_64/`,
  epelKey: (major: string) => `https://dl.fedoraproject.org/pub/epel/RPM-GPG-KEY-EPEL-${major}`,
  cuda: 'https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/',
  /** The CUDA repos' signing key since 2022 (file name is the key id). */
  cudaKeyName: '3bf863cc.pub',
  /** NVIDIA's CUDA repository for RHEL `major` (the spec's `rhel{osMajor}/{basearch}`) and its key since 2022. */
  cudaEl: (major: string) => `https://developer.download.nvidia.com/compute/cuda/repos/rhel${major}/x86_64/`,
  cudaElKeyName: 'D42D0685.pub',
  nvidiaContainer: 'https://nvidia.github.io/libnvidia-container/stable/deb/amd64/',
  /** libnvidia-container's RPM repository (repodata and RPMs under the arch directory). */
  nvidiaContainerRpm: 'https://nvidia.github.io/libnvidia-container/stable/rpm/x86_64/',
  nvidiaContainerKey: 'https://nvidia.github.io/libnvidia-container/gpgkey',
  distribution: (version: string) => `https://github.com/distribution/distribution/releases/download/v${version}/registry_${version}_linux_amd64.tar.gz`,
  calico: (version: string) => `https://raw.githubusercontent.com/projectcalico/calico/v${version}/manifests/calico.yaml`,
  devicePlugin: (version: string) => `https://raw.githubusercontent.com/NVIDIA/k8s-device-plugin/v${version}/deployments/static/nvidia-device-plugin.yml`,
} as const;

/** GitHub answers release downloads with 302 to its object store (signed, short-lived URLs). */
export const GITHUB_OBJECTS_HOST = 'objects.githubusercontent.com';
/** registry.k8s.io (archeio) answers blob GETs from non-cloud clients with 307 to this S3 bucket. */
export const K8S_BLOB_HOST = 'prod-registry-k8s-io-us-east-1.s3.dualstack.us-east-1.amazonaws.com';
/** registry.k8s.io's upstream registry path prefix (Artifact Registry), where manifests are redirected. */
export const K8S_UPSTREAM_PATH = 'k8s-artifacts-prod/images';

/** The registries the replica runs, with the token flow each real one uses. */
export const REGISTRIES = ['registry.k8s.io', 'docker.io', 'quay.io', 'ghcr.io', 'nvcr.io'] as const;
export type ReplicaRegistry = (typeof REGISTRIES)[number];

/** Where each registry's token endpoint sits and the `service` it names (as the real hosts answer `GET /v2/`). */
export const TOKEN_ENDPOINTS: Record<Exclude<ReplicaRegistry, 'registry.k8s.io'>, { host: 'registry' | string; path: string; service?: string }> = {
  // registry-1.docker.io: Bearer realm="https://auth.docker.io/token",service="registry.docker.io"
  'docker.io': { host: 'auth.docker.io', path: '/token', service: 'registry.docker.io' },
  // quay.io: Bearer realm="https://quay.io/v2/auth",service="quay.io"
  'quay.io': { host: 'registry', path: '/v2/auth', service: 'quay.io' },
  // ghcr.io: Bearer realm="https://ghcr.io/token",service="ghcr.io"
  'ghcr.io': { host: 'registry', path: '/token', service: 'ghcr.io' },
  // nvcr.io: Bearer realm="https://nvcr.io/proxy_auth",scope="..." (no service); Basic $oauthtoken:<NGC API key>
  'nvcr.io': { host: 'registry', path: '/proxy_auth' },
};

/** The user name NGC expects with an API key. */
export const NGC_USERNAME = '$oauthtoken';

/** `https://host/path` → `host/path` (where the replica keeps and serves it). */
export function hostPath(url: string): string {
  return url.replace(/^[a-z]+:\/\//, '');
}
