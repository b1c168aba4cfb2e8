// What the Kubernetes phases share: which inventory hosts are nodes and in which role, kubeadm's paths on a node,
// the kubeadm renderer's inputs from the inventory and lock, the `kubectl` argv against the admin kubeconfig, and
// the join credentials of this run.
import { InternalError, UserError } from '../../errors.ts';
import type { Inventory, InventoryHost } from '../../config/inventory.ts';
import type { Lock } from '../../config/lock.ts';
import { lockOses } from '../../config/lock-os.ts';
import type { Host } from '../../hosts/host.ts';
import type { KubeadmClusterInput, KubeadmNode } from '../../render/kubeadm.ts';
import type { PhaseContext } from '../phase.ts';
import { LOCAL_REGISTRY, requireLock } from '../render-inputs.ts';

export const ADMIN_CONF = '/etc/kubernetes/admin.conf';
export const KUBELET_CONF = '/etc/kubernetes/kubelet.conf';
export const CLUSTER_CA = '/etc/kubernetes/pki/ca.crt';
export const MANIFESTS_DIR = '/etc/kubernetes/manifests';

/** Hosts that become Kubernetes nodes (control planes, workers, GPU nodes; not a bare lb or registry host). */
export function kubeNodes(inventory: Inventory): InventoryHost[] {
  return inventory.hosts.filter((h) => h.roles.some((r) => r === 'control-plane' || r === 'worker' || r === 'gpu'));
}

/** The control planes in inventory order; the first one is where kubeadm init runs. */
export function controlPlanes(inventory: Inventory): InventoryHost[] {
  return inventory.hosts.filter((h) => h.roles.includes('control-plane'));
}

/** The control plane kubeadm init runs on and every cluster-wide command goes through. */
export function firstControlPlane(inventory: Inventory): InventoryHost {
  const first = controlPlanes(inventory)[0];
  if (!first) throw new UserError('the inventory has no control-plane host');
  return first;
}

/** Nodes that join as workers (no control-plane role). */
export function workerNodes(inventory: Inventory): InventoryHost[] {
  return kubeNodes(inventory).filter((h) => !h.roles.includes('control-plane'));
}

/** kubectl with the cluster-admin kubeconfig kubeadm writes on control planes. */
export function kubectl(...args: string[]): string[] {
  return ['kubectl', '--kubeconfig', ADMIN_CONF, ...args];
}

/** The Host of another inventory host (the first control plane, mostly). */
export function hostOf(ctx: PhaseContext, name: string): Host {
  if (!ctx.hostFor) throw new InternalError('the run context has no hostFor: the runner sets it');
  return ctx.hostFor(name);
}

/** The tag the lock gives the image `repository` (e.g. registry.k8s.io/etcd); a lock without it is refused. */
export function lockedTag(lock: Lock, repository: string): string {
  const found = lock.images.find((i) => i.ref.startsWith(`${repository}:`));
  if (!found) throw new UserError(`the lock names no ${repository} image, so kubeadm's image tag cannot be pinned`, { hint: 'make the lock again with ferry resolve' });
  return found.ref.slice(repository.length + 1);
}

/** The kubeadm renderer's cluster input for this inventory and lock. */
export function kubeadmCluster(ctx: PhaseContext): KubeadmClusterInput {
  const lock = requireLock(ctx);
  const { network } = ctx.inventory;
  return {
    clusterName: ctx.inventory.name,
    // One KubeletConfiguration for every node: with several OS releases, v1 if any of them keeps cgroup v1 (failCgroupV1
    // off, which a v2 node does not need).
    kubelet: { kubernetesVersion: lock.stack.kubernetes, cgroup: lockOses(lock.stack).some((o) => o.cgroup === 'v1') ? 'v1' : 'v2', cri: lock.stack.cri.name },
    controlPlaneEndpoint: network.controlPlaneEndpoint,
    loadBalancer: network.loadBalancer,
    imageRepository: `${LOCAL_REGISTRY.name}:${LOCAL_REGISTRY.port}/registry.k8s.io`,
    imageTags: { etcd: lockedTag(lock, 'registry.k8s.io/etcd'), coredns: lockedTag(lock, 'registry.k8s.io/coredns/coredns') },
    podSubnet: network.podCidr,
    serviceSubnet: network.serviceCidr,
    nodeAddresses: ctx.inventory.hosts.map((h) => h.address),
  };
}

/** A node as the kubeadm renderer names it. */
export function kubeadmNode(spec: InventoryHost): KubeadmNode {
  return { name: spec.name, address: spec.address };
}

/** The bootstrap token and certificate key of this run (the CLI loads them from the state directory). */
export function joinCredentials(ctx: PhaseContext): { token: string; certificateKey: string } {
  const join = ctx.state.join;
  if (!join) throw new InternalError('the bootstrap token and certificate key are not in the run state');
  return { token: join.token, certificateKey: join.certificateKey };
}
