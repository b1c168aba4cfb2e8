// containerd registry host configuration (config_path/<upstream>/hosts.toml): every upstream registry named by an
// image in the bundle is served by the local registry replicas, and never by the internet.
// Format: containerd docs/hosts.md (server, [host."…"], capabilities, ca, override_path, dial_timeout).
import { stringify } from 'smol-toml';
import { UserError } from '../errors.ts';
import { renderedFile, type RenderedFile } from './file.ts';
import { upstreamRegistries } from './local-image.ts';

/** The local registry as the nodes reach it. */
export interface LocalRegistryEndpoints {
  /** host:port that images are named by on the nodes (kubeadm imageRepository, sandbox image), e.g.
   * registry.ferry.internal:5000. It need not resolve: its hosts.toml sends every pull to the replicas. */
  name: string;
  /** Every replica as host:port (node address or name covered by the registry certificate), in preference order. */
  replicas: readonly string[];
  /** Path of ferry's CA certificate on the node (the registry's TLS is verified against it; never skipped). */
  caPath: string;
}

export interface ContainerdHostsInput {
  registry: LocalRegistryEndpoints;
  /** Every image in the bundle; their upstream registries each get a hosts.toml. */
  images: readonly string[];
  /** containerd's registry config_path; default /etc/containerd/certs.d. */
  configPath?: string;
  /** Dial timeout per replica so a dead replica is skipped fast; default 2s. containerd 1.x ignores the key. */
  dialTimeout?: string;
}

export const CONTAINERD_CERTS_DIR = '/etc/containerd/certs.d';

/** Checks replicas are host:port and returns them; shared by the containerd and CRI-O renderers. */
export function checkedReplicas(registry: LocalRegistryEndpoints): readonly string[] {
  if (registry.replicas.length === 0) throw new UserError('the local registry needs at least one replica');
  for (const r of registry.replicas) {
    if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(r))
      throw new UserError(`registry replica must be HOST:PORT, got ${JSON.stringify(r)}`);
  }
  return registry.replicas;
}

/** URL of one upstream's namespace on a replica; with override_path containerd uses it as the API root as is. */
export function replicaNamespaceUrl(replica: string, upstream: string): string {
  return `https://${replica}/v2/${upstream}`;
}

/**
 * hosts.toml text for one registry namespace: all replicas as pull+resolve hosts and `server` = the first replica,
 * so nothing falls back to the internet. An upstream (registry.k8s.io) maps to its namespace on the replicas via
 * override_path; the local name itself maps to the replicas' plain /v2 root.
 */
export function renderHostsToml(namespace: string, input: Omit<ContainerdHostsInput, 'images'>): string {
  const replicas = checkedReplicas(input.registry);
  const local = namespace === input.registry.name;
  const url = (replica: string) => (local ? `https://${replica}` : replicaNamespaceUrl(replica, namespace));
  const common = { capabilities: ['pull', 'resolve'], ca: input.registry.caPath, ...(local ? {} : { override_path: true }) };
  const dialTimeout = input.dialTimeout ?? '2s';
  if (!/^\d+(ms|s)$/.test(dialTimeout)) throw new UserError(`dialTimeout must look like 2s or 500ms, got ${dialTimeout}`);
  const host: Record<string, unknown> = {};
  for (const replica of replicas) host[url(replica)] = { ...common, dial_timeout: dialTimeout };
  const body = stringify({ server: url(replicas[0]!), ...common, host });
  return `# ${namespace}: served only by ferry's local registry (no fallback to the internet).\n${body}\n`;
}

/** One hosts.toml per upstream registry named by the images, and one for the local registry's own name. */
export function renderContainerdHosts(input: ContainerdHostsInput): RenderedFile[] {
  const dir = input.configPath ?? CONTAINERD_CERTS_DIR;
  const namespaces = [...new Set([...upstreamRegistries(input.images), input.registry.name])];
  return namespaces.map((ns) => renderedFile(`${dir}/${hostDirectory(ns)}/hosts.toml`, renderHostsToml(ns, input)));
}

/** containerd looks up `host:port` registries in `host_port_` first (docs/hosts.md, "Port Handling"). */
function hostDirectory(upstream: string): string {
  const idx = upstream.lastIndexOf(':');
  return idx > 0 ? `${upstream.slice(0, idx)}_${upstream.slice(idx + 1)}_` : upstream;
}
