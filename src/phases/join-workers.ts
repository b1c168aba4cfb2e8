// join-workers: every node without the control-plane role joins, in parallel but at most `batch` at once (default
// 10) so the API server and the registry are not hit by every node of a large site together.
import { z } from 'zod';
import { workerNodes } from './kube/cluster.ts';
import { joinPhase, type JoinSeen } from './kube/join-node.ts';
import type { Phase } from './phase.ts';

export const JoinWorkersParams = z.object({ batch: z.number().int().min(1).max(500).default(10) }).strict().default({ batch: 10 });
export type JoinWorkersParams = z.infer<typeof JoinWorkersParams>;

export const joinWorkersPhase: Phase<JoinWorkersParams, JoinSeen> = {
  id: 'join-workers',
  title: 'kubeadm join of the workers, in batches',
  undo: 'reset-kubeadm',
  params: JoinWorkersParams,
  concurrency: (params) => params.batch,
  targets: (ctx) => workerNodes(ctx.inventory),
  ...joinPhase(false),
};
