// The host → loopback mapping a build uses to reach the replica: the same shape as a bundle spec's `mirrors:` (URL
// prefix → replacement, longest prefix wins) and `registries:` (`mirrors:` registry host → base URL, `insecure:`).
// The Debian archive maps to the machine's own mirror; every other upstream to the replica. Pure.

export interface MirrorsDocument {
  mirrors: Record<string, string>;
  registries: { mirrors: Record<string, string>; insecure: string[]; credentials: { registry: string; username: string; passwordEnv: string }[] };
}

/** The upstream URL prefixes the replica's file server answers for (`https://host`), beside the Debian archive. */
export const SERVED_HOSTS = [
  'download.docker.com', 'pkgs.k8s.io', 'prod-cdn.packages.k8s.io', 'developer.download.nvidia.com', 'nvidia.github.io',
  'github.com', 'objects.githubusercontent.com', 'raw.githubusercontent.com', 'dl.rockylinux.org', 'dl.fedoraproject.org',
] as const;

/** Build the mapping: `origin` is the replica's file server, `registries` its registry fronts. */
export function mirrorsDocument(o: {
  origin: string;
  debian: { archive: string; security?: string };
  registries: Readonly<Record<string, string>>;
  /** Further hosts the caller's files live on. */
  extraHosts?: readonly string[];
}): MirrorsDocument {
  const mirrors: Record<string, string> = {
    'http://deb.debian.org/debian': o.debian.archive,
    ...(o.debian.security ? { 'http://deb.debian.org/debian-security': o.debian.security } : {}),
  };
  for (const host of [...SERVED_HOSTS, ...(o.extraHosts ?? [])]) mirrors[`https://${host}`] = `${o.origin}/${host}`;
  const insecure = Object.values(o.registries).map((u) => new URL(u).host);
  // Credentials are keyed by the host contacted: the replica's nvcr.io front wants NGC's `$oauthtoken` and a key, as
  // nvcr.io does, from the same variable the shipped spec names.
  const nvcr = o.registries['nvcr.io'];
  const credentials = nvcr ? [{ registry: new URL(nvcr).host, username: '$oauthtoken', passwordEnv: 'NGC_API_KEY' }] : [];
  return { mirrors, registries: { mirrors: { ...o.registries }, insecure, credentials } };
}
