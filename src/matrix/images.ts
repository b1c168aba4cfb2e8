// Every container image a resolved stack needs, fully qualified: the contract with `ferry bundle build`.
// Pure: versions come from the resolution and the matrix (kubeadm constants per minor, CNI image lists).
import type { LockImage } from '../config/lock.ts';
import { InternalError } from '../errors.ts';
import type { Catalog } from './catalog.ts';
import type { Resolved } from './resolve.ts';

/** The images of the control plane (as kubeadm of that minor deploys them), the CNI and the GPU device plugin. */
export function imagesFor(catalog: Catalog, res: Resolved): LockImage[] {
  const k = res.stack.kubernetes;
  const kubeadm = res.kube.kubeadmImages;
  if (!kubeadm) throw new InternalError(`resolve chose Kubernetes ${res.kube.minor}, whose kubeadm images the matrix does not know`);
  const images: LockImage[] = [
    { ref: `registry.k8s.io/kube-apiserver:v${k}`, component: 'kubernetes', critical: false },
    { ref: `registry.k8s.io/kube-controller-manager:v${k}`, component: 'kubernetes', critical: false },
    { ref: `registry.k8s.io/kube-scheduler:v${k}`, component: 'kubernetes', critical: false },
    { ref: `registry.k8s.io/kube-proxy:v${k}`, component: 'kubernetes', critical: true },
    { ref: `registry.k8s.io/pause:${kubeadm.pause}`, component: 'kubernetes', critical: true },
    { ref: `registry.k8s.io/etcd:${kubeadm.etcd}`, component: 'etcd', critical: false },
    { ref: `registry.k8s.io/coredns/coredns:${kubeadm.coredns}`, component: 'coredns', critical: true },
  ];
  for (const image of res.cni.images)
    images.push({ ref: `${image.repo}:${image.tag ?? `v${res.stack.cni.version}`}`, component: res.stack.cni.name, critical: true });
  if (res.stack.nvidiaDriver) {
    const plugin = catalog.matrix.nvidia.devicePlugin;
    images.push({ ref: `${plugin.image}:${plugin.version}`, component: 'nvidia-device-plugin', critical: true });
  }
  return images;
}
