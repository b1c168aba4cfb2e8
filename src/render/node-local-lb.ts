// The node-local balancer, for networks that block VRRP or gratuitous ARP: every node runs HAProxy on
// 127.0.0.1:<port> in front of all control planes, and kubelet/kube-proxy reach the API through it.
import { UserError } from '../errors.ts';
import { renderedFile, type RenderedFile } from './file.ts';
import { HAPROXY_CONFIG_PATH, HAPROXY_VERIFY, renderHaproxyDropIn, renderHaproxyText, type ApiServerBackend } from './haproxy.ts';

export interface NodeLocalLbInput {
  /** Local port; must differ from 6443, which kube-apiserver takes on control-plane nodes. Default 6444. */
  port?: number;
  backends: readonly ApiServerBackend[];
  healthCheckCaFile?: string;
}

export const NODE_LOCAL_LB_DEFAULT_PORT = 6444;

/** The endpoint every node uses in node-local mode (kubeadm controlPlaneEndpoint). */
export function nodeLocalEndpoint(port = NODE_LOCAL_LB_DEFAULT_PORT): string {
  return `127.0.0.1:${port}`;
}

/** haproxy.cfg and its service drop-in for one node's local balancer. */
export function renderNodeLocalLb(input: NodeLocalLbInput): RenderedFile[] {
  const port = input.port ?? NODE_LOCAL_LB_DEFAULT_PORT;
  if (input.backends.some((b) => (b.port ?? 6443) === port))
    throw new UserError(`node-local balancer port ${port} collides with an API server port`);
  const text = renderHaproxyText(
    { bindAddress: '127.0.0.1', bindPort: port, backends: input.backends, ...(input.healthCheckCaFile ? { healthCheckCaFile: input.healthCheckCaFile } : {}) },
    'Written by ferry: node-local API server balancer (no VIP), loopback only.',
  );
  return [renderedFile(HAPROXY_CONFIG_PATH, text, { verify: HAPROXY_VERIFY }), renderHaproxyDropIn()];
}
