// verify: the cluster is as the install meant it, seen from the first control plane: every node Ready (waiting a
// bounded time, naming the nodes still missing), the API answering through the balancer's endpoint, the
// control-plane and CNI pods Running; then the bootstrap token is deleted so no join credential outlives the install.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import { ReadOnlyHost } from '../hosts/read-only.ts';
import { expectedPods, notReadyNodes, podsNotRunning } from './kube/cluster-health.ts';
import { ADMIN_CONF, firstControlPlane, joinCredentials, kubeNodes, kubectl } from './kube/cluster.ts';
import { listedTokenIds, tokenId, tokenSecret } from './kube/join-secrets.ts';
import type { PhaseContext, Phase } from './phase.ts';
import { exec, type Step } from './step.ts';

export const VerifyParams = z.object({
  /** How long nodes and pods may take to become Ready/Running. */
  timeoutSeconds: z.number().int().min(1).max(3600).default(300),
  pollSeconds: z.number().min(0.1).max(60).default(3),
}).strict();
export type VerifyParams = z.infer<typeof VerifyParams>;

const TOKEN_LIST = ['kubeadm', 'token', 'list', '--kubeconfig', ADMIN_CONF, '-o', 'json'];

/** The `kubectl --server` argv that reaches the API through the balancer (the VIP or node-local HAProxy). */
export function viaEndpointArgv(endpoint: string): string[] {
  return kubectl('--server', `https://${endpoint}`, 'get', '--raw', '/readyz');
}

async function problems(host: Host, ctx: PhaseContext): Promise<string[]> {
  const read = { allowFailure: true, timeoutMs: 30_000 } as const;
  const nodes = await host.exec(kubectl('get', 'nodes', '-o', 'json'), read);
  if (nodes.exitCode !== 0) return [`the API server does not answer kubectl get nodes: ${nodes.stderr.trim()}`];
  const out = notReadyNodes(nodes.stdout, kubeNodes(ctx.inventory).map((h) => h.name)).map((n) => `node ${n.node}: ${n.reason}`);
  const pods = await host.exec(kubectl('get', 'pods', '-A', '-o', 'json'), read);
  if (pods.exitCode !== 0) return [...out, `kubectl get pods failed: ${pods.stderr.trim()}`];
  out.push(...podsNotRunning(pods.stdout, expectedPods(ctx.inventory)).map((p) => `pod ${p.pod}: ${p.reason}`));
  const endpoint = ctx.inventory.network.controlPlaneEndpoint;
  const via = await host.exec(viaEndpointArgv(endpoint), read);
  if (via.exitCode !== 0 || via.stdout.trim() !== 'ok') out.push(`the API is not reachable through ${endpoint}: ${(via.stderr || via.stdout).trim()}`);
  return out;
}

/** What verify sees on the first control plane: what is not yet healthy, and (once healthy) whether the token is listed. */
export interface VerifySeen {
  problems: string[];
  /** Read only when there are no problems. */
  tokenListed?: boolean;
}

/** What the plan is made from besides the observation. */
export interface VerifyInput {
  tokenId: string;
  timeoutSeconds: number;
  /** Waits until nothing is wrong any more, or fails naming what still is (a task: runs only when applied). */
  waitHealthy: (node: Host) => Promise<void>;
}

/** The steps from what was seen: a wait while anything is unhealthy, else the token deleted where it is listed. */
export function planVerify(seen: VerifySeen, input: VerifyInput): Step[] {
  if (seen.problems.length > 0) return [{ kind: 'task', what: `wait up to ${input.timeoutSeconds} s for: ${seen.problems.join('; ')}`, run: ({ node }) => input.waitHealthy(node) }];
  return seen.tokenListed ? [exec(['kubeadm', 'token', 'delete', input.tokenId, '--kubeconfig', ADMIN_CONF])] : [];
}

/** Polls `problems` (through the first control plane made read-only) until there are none, or fails after the timeout naming them. */
async function waitHealthy(host: Host, ctx: PhaseContext, params: VerifyParams): Promise<void> {
  const deadline = ctx.now().getTime() + params.timeoutSeconds * 1000;
  let left = await problems(host, ctx);
  while (left.length > 0 && ctx.now().getTime() < deadline) {
    await sleep(params.pollSeconds * 1000);
    left = await problems(host, ctx);
  }
  if (left.length > 0)
    throw new UserError(`the cluster is not healthy after ${params.timeoutSeconds} s:\n    ${left.join('\n    ')}`, {
      hint: 'look at kubelet on the nodes named (journalctl -u kubelet) and run the install again',
    });
}

export const verifyPhase: Phase<VerifyParams, VerifySeen> = {
  id: 'verify',
  wholeCluster: true,
  title: 'every node Ready, the API through the endpoint, system pods Running; bootstrap token deleted',
  undo: { none: 'it only checks the cluster; the bootstrap token it deletes goes with the cluster' },
  params: VerifyParams,
  targets: (ctx) => [firstControlPlane(ctx.inventory)],
  async observe({ host }, ctx) {
    const found = await problems(host, ctx);
    if (found.length > 0) return { problems: found };
    const { token } = joinCredentials(ctx);
    const r = await host.exec(TOKEN_LIST, { secrets: [tokenSecret(token)] });
    return { problems: [], tokenListed: listedTokenIds(r.stdout).includes(tokenId(token)) };
  },
  plan(seen, { ctx, params }) {
    return planVerify(seen, {
      tokenId: tokenId(joinCredentials(ctx).token), timeoutSeconds: params.timeoutSeconds,
      waitHealthy: (node) => waitHealthy(new ReadOnlyHost(node), ctx, params),
    });
  },
};
