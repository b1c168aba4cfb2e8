// Every file one node needs before kubeadm runs, derived from the inventory (cluster.yaml) and the lock: OS
// preparation, container runtime and its registry mirrors, the API balancer, the local registry. The join between
// ferry's inputs and the single-purpose renderers (containerd's certs.d/*/hosts.toml are registry-mirrors' own), so an install phase only has to write what this returns.
import type { Inventory, InventoryHost } from '../config/inventory.ts';
import type { Lock } from '../config/lock.ts';
import { UserError } from '../errors.ts';
import { renderContainerdConfig } from './containerd.ts';
import type { LocalRegistryEndpoints } from './containerd-hosts.ts';
import { renderCrioConfig, renderCrioRegistries } from './crio.ts';
import type { RenderedFile } from './file.ts';
import { renderHaproxyConfig } from './haproxy.ts';
import { renderKeepalived } from './keepalived.ts';
import { localImageRef } from './local-image.ts';
import { parseImageReference } from '../registry-client/reference.ts';
import { renderModules } from './modules.ts';
import { renderNftables, renderNftablesUnit, type NftablesInput } from './nftables.ts';
import { renderNodeLocalLb } from './node-local-lb.ts';
import { renderRegistry } from './registry.ts';
import { renderSysctl } from './sysctl.ts';

export interface NodeFilesInput {
  inventory: Inventory;
  lock: Lock;
  /** Name of the host (inventory hosts[].name) the files are for. */
  host: string;
  registry: {
    /** Name images carry on the nodes, e.g. registry.ferry.internal (the port is added). */
    name: string;
    port: number;
    /** ferry's CA: where it sits on the node, and its PEM text (CRI-O wants a copy per replica). */
    caPath: string;
    caPem: string;
  };
  /** The install's encapsulation decision (src/phases/encapsulation.ts), so the firewall opens what the CNI uses. */
  encapsulation: NftablesInput['encapsulation'];
  /** VIP mode only: VRRP settings shared by the balancer hosts. */
  vrrp?: { interface: string; virtualRouterId: number; authPass: string };
  /** The admin host's address as this node sees it (from the SSH session), let through to the registry port. */
  adminAddress?: string;
}

/** Hosts that carry the local registry: those with role `registry`, else the control planes. */
export function registryHosts(inventory: Inventory): InventoryHost[] {
  const dedicated = inventory.hosts.filter((h) => h.roles.includes('registry'));
  return dedicated.length > 0 ? dedicated : inventory.hosts.filter((h) => h.roles.includes('control-plane'));
}

/** Hosts that carry the VIP in VIP mode: those with role `lb`, else the control planes. */
export function balancerHosts(inventory: Inventory): InventoryHost[] {
  const dedicated = inventory.hosts.filter((h) => h.roles.includes('lb'));
  return dedicated.length > 0 ? dedicated : inventory.hosts.filter((h) => h.roles.includes('control-plane'));
}

/** The local registry as every node reaches it. */
export function registryEndpoints(input: NodeFilesInput): LocalRegistryEndpoints {
  return {
    name: `${input.registry.name}:${input.registry.port}`,
    replicas: registryHosts(input.inventory).map((h) => `${h.address}:${input.registry.port}`),
    caPath: input.registry.caPath,
  };
}

/**
 * Subject alternative names for the registry's TLS certificate (made by ferry's CA): every replica address, the
 * VIP in VIP mode, and the registry name, so a client may reach any replica under any of these names.
 */
export function registryCertificateSans(input: Pick<NodeFilesInput, 'inventory' | 'registry'>): { type: 'IP' | 'DNS'; value: string }[] {
  const ips = registryHosts(input.inventory).map((h) => h.address);
  if (input.inventory.network.loadBalancer === 'vip') ips.push(input.inventory.network.controlPlaneEndpoint.split(':')[0]!);
  const sans: { type: 'IP' | 'DNS'; value: string }[] = [...new Set(ips)].map((value) => ({ type: 'IP', value }));
  return [...sans, { type: 'DNS', value: input.registry.name }];
}

function runtimeFiles(input: NodeFilesInput, host: InventoryHost): RenderedFile[] {
  const { lock } = input;
  const registry = registryEndpoints(input);
  const refs = lock.images.map((i) => i.ref);
  const pause = refs.find((r) => parseImageReference(r).repository === 'pause');
  if (!pause) throw new UserError('the lock names no pause image', { hint: 'run ferry resolve again: every stack needs registry.k8s.io/pause' });
  const sandboxImage = localImageRef(pause, registry.name);
  const gpu = host.roles.includes('gpu') && lock.stack.nvidiaDriver !== null ? { defaultRuntime: true } : undefined;
  if (lock.stack.cri.name === 'containerd') {
    return [
      // config.toml only: its config_path points at certs.d, whose hosts.toml files the registry-mirrors phase owns.
      renderContainerdConfig({ version: lock.stack.cri.version, sandboxImage, ...(gpu ? { gpu } : {}) }),
    ];
  }
  const pinned = lock.images.filter((i) => i.critical).map((i) => localImageRef(i.ref, registry.name));
  return [
    renderCrioConfig({ pauseImage: sandboxImage, pinnedImages: pinned, ...(gpu ? { gpu } : {}) }),
    ...renderCrioRegistries({ registry, images: refs, caPem: input.registry.caPem }),
  ];
}

function balancerFiles(input: NodeFilesInput, host: InventoryHost, apiPort: number): RenderedFile[] {
  const { inventory } = input;
  const backends = inventory.hosts.filter((h) => h.roles.includes('control-plane')).map((h) => ({ name: h.name, address: h.address }));
  if (inventory.network.loadBalancer === 'node-local') return renderNodeLocalLb({ port: apiPort, backends });
  const balancers = balancerHosts(inventory);
  if (!balancers.some((b) => b.name === host.name)) return [];
  if (!input.vrrp) throw new UserError('VIP mode needs VRRP settings (interface, virtual router id, password)');
  const vip = inventory.network.controlPlaneEndpoint.split(':')[0]!;
  return [
    ...renderHaproxyConfig({ bindAddress: '*', bindPort: apiPort, backends }),
    ...renderKeepalived({ self: host, peers: balancers, vip, apiPort, ...input.vrrp }),
  ];
}

/** What ferry's node firewall opens on `input.host` (its nft table, and its firewalld policy where firewalld runs). */
export function nftablesInput(input: Pick<NodeFilesInput, 'inventory' | 'host' | 'registry' | 'encapsulation' | 'adminAddress'>): NftablesInput {
  const { inventory } = input;
  const host = inventory.hosts.find((h) => h.name === input.host);
  if (!host) throw new UserError(`no host named ${input.host} in the inventory`);
  const apiPort = Number(inventory.network.controlPlaneEndpoint.split(':')[1]);
  const isRegistry = registryHosts(inventory).some((h) => h.name === host.name);
  const isBalancer = inventory.network.loadBalancer === 'vip' && balancerHosts(inventory).some((h) => h.name === host.name);
  const balancers = inventory.network.loadBalancer === 'vip' ? balancerHosts(inventory).map((h) => h.address) : [];
  return {
    roles: [...host.roles, ...(isRegistry ? (['registry'] as const) : []), ...(isBalancer ? (['lb'] as const) : [])],
    nodes: inventory.hosts.map((h) => h.address),
    controlPlanes: inventory.hosts.filter((h) => h.roles.includes('control-plane')).map((h) => h.address),
    balancers,
    podCidr: inventory.network.podCidr,
    cni: inventory.network.cni,
    encapsulation: input.encapsulation,
    ...(balancers.length > 0 ? { balancerPort: apiPort } : {}),
    registryPort: input.registry.port,
    ...(input.adminAddress ? { adminAddress: input.adminAddress } : {}),
  };
}

/** Every file for `input.host`, in the order they should be written. */
export function renderNodeFiles(input: NodeFilesInput): RenderedFile[] {
  const { inventory } = input;
  const host = inventory.hosts.find((h) => h.name === input.host);
  if (!host) throw new UserError(`no host named ${input.host} in the inventory`);
  const apiPort = Number(inventory.network.controlPlaneEndpoint.split(':')[1]);
  const isControlPlane = host.roles.includes('control-plane');
  if (inventory.network.loadBalancer === 'vip' && isControlPlane && apiPort === 6443 && !inventory.hosts.some((h) => h.roles.includes('lb')))
    throw new UserError('the VIP port must not be 6443 when HAProxy runs on the control planes (kube-apiserver holds 6443)', {
      hint: 'use e.g. network.controlPlaneEndpoint: <vip>:8443, or add hosts with role lb',
    });
  const isRegistry = registryHosts(inventory).some((h) => h.name === host.name);
  const encap = input.encapsulation;
  const files = [
    renderSysctl(),
    renderModules(encap.kind === 'ipip' ? ['ipip'] : []),
    renderNftables(nftablesInput(input)),
    renderNftablesUnit(),
    ...runtimeFiles(input, host),
    ...balancerFiles(input, host, apiPort),
  ];
  if (isRegistry) {
    files.push(...renderRegistry({ listen: `${host.address}:${input.registry.port}`, tls: { certificate: '/etc/ferry/registry/tls.crt', key: '/etc/ferry/registry/tls.key' } }));
  }
  return files;
}
