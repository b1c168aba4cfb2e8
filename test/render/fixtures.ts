// Shared inputs for the renderer tests: a three-control-plane cluster with two GPU workers.
// Image list: the images kubeadm 1.33 lists (`kubeadm config images list`, documented for v1.33 on
// kubernetes.io "Creating a cluster with kubeadm"), plus the CNI and GPU Operator images the bundles carry.
import type { LocalRegistryEndpoints } from '../../src/render/containerd-hosts.ts';

export const images = [
  'registry.k8s.io/kube-apiserver:v1.33.4',
  'registry.k8s.io/kube-controller-manager:v1.33.4',
  'registry.k8s.io/kube-scheduler:v1.33.4',
  'registry.k8s.io/kube-proxy:v1.33.4',
  'registry.k8s.io/coredns/coredns:v1.12.0',
  'registry.k8s.io/pause:3.10',
  'registry.k8s.io/etcd:3.5.21-0',
  'quay.io/calico/node:v3.30.3',
  'docker.io/calico/cni:v3.30.3',
  'nvcr.io/nvidia/gpu-operator:v25.10.0',
  'ghcr.io/example/tool:1.0',
];

export const controlPlanes = [
  { name: 'cp-1', address: '10.20.0.11' },
  { name: 'cp-2', address: '10.20.0.12' },
  { name: 'cp-3', address: '10.20.0.13' },
];

export const vip = '10.20.0.100';

export const registry: LocalRegistryEndpoints = {
  name: 'registry.ferry.internal:5000',
  replicas: controlPlanes.map((c) => `${c.address}:5000`),
  caPath: '/etc/ferry/pki/ca.crt',
};
