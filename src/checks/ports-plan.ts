// Which ports each node will listen on and who must reach them: the source for local-port and reachability checks.
import type { Role } from '../config/inventory.ts';
import type { Plan } from './types.ts';

export interface PortNeed {
  port: number;
  service: string;
  /** Roles whose nodes connect to it ('any' = every node). */
  from: readonly (Role | 'any')[];
  /** Only checked to be free locally (bound to loopback by kubeadm), never probed from peers. */
  localOnly?: boolean;
}

/** UDP port of the CNI's VXLAN: Calico 4789, Flannel and Cilium 8472. */
export function vxlanPort(cni: Plan['cni']): number {
  return cni === 'calico' ? 4789 : 8472;
}

/** The ports a node with `roles` will listen on, per the Kubernetes ports-and-protocols page and the CNI's docs. */
export function portsFor(roles: readonly Role[], plan: Plan): PortNeed[] {
  const out: PortNeed[] = [];
  const cp = roles.includes('control-plane');
  if (cp) {
    out.push({ port: 6443, service: 'kube-apiserver', from: ['any'] });
    out.push({ port: 2379, service: 'etcd client', from: ['control-plane'] });
    out.push({ port: 2380, service: 'etcd peer', from: ['control-plane'] });
    out.push({ port: 10257, service: 'kube-controller-manager', from: [], localOnly: true });
    out.push({ port: 10259, service: 'kube-scheduler', from: [], localOnly: true });
  }
  out.push({ port: 10250, service: 'kubelet', from: ['control-plane'] });
  const vipPort = Number(plan.controlPlaneEndpoint.split(':').at(-1));
  if (vipPort !== 6443 && (roles.includes('lb') || cp))
    out.push({ port: vipPort, service: 'load balancer for the control-plane endpoint', from: [], localOnly: true });
  if (plan.cni === 'calico') out.push({ port: 179, service: 'Calico BGP', from: ['any'] });
  if (plan.cni === 'cilium') out.push({ port: 4240, service: 'Cilium health', from: ['any'] });
  return out;
}
