// join-control-planes: the other control planes, one at a time (etcd grows by one member per join), each with the
// uploaded certificates (uploaded again first when they are nearly two hours old) and the certificate key.
import { controlPlanes } from './kube/cluster.ts';
import { joinPhase, type JoinSeen } from './kube/join-node.ts';
import type { Phase } from './phase.ts';

export const joinControlPlanesPhase: Phase<Record<string, unknown>, JoinSeen> = {
  id: 'join-control-planes',
  title: 'kubeadm join of the other control planes, one at a time',
  undo: 'reset-kubeadm',
  order: 'serial',
  targets: (ctx) => controlPlanes(ctx.inventory).slice(1),
  ...joinPhase(true),
};
