// kubeadm config (kubeadm.k8s.io/v1beta4) as multi-document YAML: InitConfiguration + ClusterConfiguration +
// KubeletConfiguration for the first control plane, JoinConfiguration for the others and for workers.
// controlPlaneEndpoint is the balancer (VIP or node-local), never a node; images come from the local registry.
// The bootstrap token and certificate key are listed in `secrets` so callers redact them before printing.
import { stringify } from 'yaml';
import { UserError } from '../errors.ts';
import { renderedFile, type RenderedFile } from './file.ts';
import { criSocket, kubeletConfiguration, kubeMinor, type KubeletInput } from './kubelet.ts';

export interface KubeadmClusterInput {
  clusterName: string;
  kubelet: KubeletInput;
  /** HOST:PORT of the balancer: the VIP, or 127.0.0.1:<port> in node-local mode. */
  controlPlaneEndpoint: string;
  loadBalancer: 'vip' | 'node-local';
  /** Local registry path holding registry.k8s.io's images, e.g. registry.ferry.internal:5000/registry.k8s.io. */
  imageRepository: string;
  /** The etcd and CoreDNS tags the lock chose (and the bundle carries): pinned, so kubeadm never falls back to its
   * compiled-in defaults, which an offline registry may not hold. */
  imageTags: { etcd: string; coredns: string };
  podSubnet: string;
  serviceSubnet: string;
  /** Extra names/addresses for the API server certificate. */
  certSANs?: readonly string[];
  /** Every node address: the endpoint may not be one of them. */
  nodeAddresses: readonly string[];
}

export interface KubeadmNode {
  name: string;
  address: string;
  /** Extra node labels are applied after join; taints here. Default: kubeadm's (control-plane NoSchedule). */
  taints?: readonly { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
}

export const KUBEADM_CONFIG_PATH = '/etc/ferry/kubeadm.yaml';
const API_PORT = 6443;

function checkToken(token: string): void {
  // Bootstrap token format: [a-z0-9]{6}.[a-z0-9]{16} (kubeadm reference, "kubeadm token").
  if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(token)) throw new UserError('the bootstrap token must match [a-z0-9]{6}.[a-z0-9]{16}');
}

function checkCertificateKey(key: string): void {
  // 32 random bytes, hex (kubeadm certs certificate-key).
  if (!/^[a-f0-9]{64}$/.test(key)) throw new UserError('the certificate key must be 64 lowercase hex characters');
}

function endpointHost(cluster: KubeadmClusterInput): string {
  const m = /^(.+):(\d{1,5})$/.exec(cluster.controlPlaneEndpoint);
  if (!m) throw new UserError(`controlPlaneEndpoint must be HOST:PORT, got ${cluster.controlPlaneEndpoint}`);
  const host = m[1]!;
  if (cluster.loadBalancer === 'vip' && cluster.nodeAddresses.includes(host))
    throw new UserError(`controlPlaneEndpoint ${cluster.controlPlaneEndpoint} is a node, not the VIP`, {
      hint: 'set network.controlPlaneEndpoint to the VIP (an unused address on the node subnet)',
    });
  if (cluster.loadBalancer === 'node-local' && host !== '127.0.0.1')
    throw new UserError(`in node-local mode controlPlaneEndpoint is 127.0.0.1:<port>, got ${cluster.controlPlaneEndpoint}`);
  return host;
}

function nodeRegistration(node: KubeadmNode, cluster: KubeadmClusterInput) {
  return {
    name: node.name,
    criSocket: criSocket(cluster.kubelet.cri),
    ...(node.taints ? { taints: node.taints.map((t) => ({ ...t })) } : {}),
    kubeletExtraArgs: [{ name: 'node-ip', value: node.address }],
  };
}

/** The ClusterConfiguration object (also used to compare with the live kubeadm-config ConfigMap). */
export function clusterConfiguration(cluster: KubeadmClusterInput): Record<string, unknown> {
  const host = endpointHost(cluster);
  const sans = [host, ...(cluster.loadBalancer === 'node-local' ? ['localhost'] : []), ...(cluster.certSANs ?? [])];
  return {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'ClusterConfiguration',
    clusterName: cluster.clusterName,
    kubernetesVersion: `v${cluster.kubelet.kubernetesVersion.replace(/^v/, '')}`,
    controlPlaneEndpoint: cluster.controlPlaneEndpoint,
    imageRepository: cluster.imageRepository,
    // With a custom imageRepository kubeadm would look for <repo>/coredns:<tag>; keep upstream's coredns/coredns path.
    dns: { imageRepository: `${cluster.imageRepository}/coredns`, imageTag: cluster.imageTags.coredns },
    networking: { podSubnet: cluster.podSubnet, serviceSubnet: cluster.serviceSubnet, dnsDomain: 'cluster.local' },
    apiServer: { certSANs: [...new Set(sans)] },
    etcd: { local: { dataDir: '/var/lib/etcd', imageTag: cluster.imageTags.etcd } },
  };
}

function yamlDocs(docs: readonly Record<string, unknown>[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

/** kubeadm init --config for the first control plane. */
export function renderKubeadmInit(input: {
  cluster: KubeadmClusterInput;
  node: KubeadmNode;
  bootstrapToken: string;
  certificateKey: string;
}): RenderedFile {
  kubeMinor(input.cluster.kubelet.kubernetesVersion);
  checkToken(input.bootstrapToken);
  checkCertificateKey(input.certificateKey);
  const init = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'InitConfiguration',
    bootstrapTokens: [
      {
        token: input.bootstrapToken,
        description: 'ferry install: joins the other nodes',
        ttl: '2h0m0s',
        usages: ['signing', 'authentication'],
        groups: ['system:bootstrappers:kubeadm:default-node-token'],
      },
    ],
    nodeRegistration: nodeRegistration(input.node, input.cluster),
    localAPIEndpoint: { advertiseAddress: input.node.address, bindPort: API_PORT },
    certificateKey: input.certificateKey,
  };
  const text = yamlDocs([init, clusterConfiguration(input.cluster), kubeletConfiguration(input.cluster.kubelet)]);
  return renderedFile(KUBEADM_CONFIG_PATH, text, { secrets: [input.bootstrapToken, input.certificateKey] });
}

/** kubeadm join --config for another control plane (with `certificateKey`) or a worker (without). */
export function renderKubeadmJoin(input: {
  cluster: KubeadmClusterInput;
  node: KubeadmNode;
  bootstrapToken: string;
  /** sha256:<hex> of the cluster CA's public key. */
  caCertHashes: readonly string[];
  certificateKey?: string;
}): RenderedFile {
  kubeMinor(input.cluster.kubelet.kubernetesVersion);
  endpointHost(input.cluster);
  checkToken(input.bootstrapToken);
  if (input.caCertHashes.length === 0 || input.caCertHashes.some((h) => !/^sha256:[a-f0-9]{64}$/.test(h)))
    throw new UserError('caCertHashes must be sha256:<64 hex> values: joining without CA pinning is not allowed');
  if (input.certificateKey !== undefined) checkCertificateKey(input.certificateKey);
  const join = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'JoinConfiguration',
    discovery: {
      bootstrapToken: {
        token: input.bootstrapToken,
        apiServerEndpoint: input.cluster.controlPlaneEndpoint,
        caCertHashes: [...input.caCertHashes],
      },
    },
    nodeRegistration: nodeRegistration(input.node, input.cluster),
    ...(input.certificateKey === undefined
      ? {}
      : { controlPlane: { localAPIEndpoint: { advertiseAddress: input.node.address, bindPort: API_PORT }, certificateKey: input.certificateKey } }),
  };
  const secrets = [input.bootstrapToken, ...(input.certificateKey === undefined ? [] : [input.certificateKey])];
  return renderedFile(KUBEADM_CONFIG_PATH, yamlDocs([join]), { secrets });
}
