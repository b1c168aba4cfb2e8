// One `kubeadm join` of a node, shared by join-control-planes, join-workers and add-node: observe reads the node
// (kubelet.conf) and the first control plane (the API's node list, the CA pin, the token, the certificates' age),
// plan decides: the token made known to the cluster again when needed, control planes with fresh uploaded
// certificates, a node left half-joined (kubelet.conf but not in the API) reset first, then the join, and a wait
// until the API lists the node (so the round after the join sees it joined).
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../../errors.ts';
import type { InventoryHost } from '../../config/inventory.ts';
import type { Host } from '../../hosts/host.ts';
import { sh } from '../../hosts/shell.ts';
import type { RenderedFile } from '../../render/file.ts';
import { KUBEADM_CONFIG_PATH, renderKubeadmJoin } from '../../render/kubeadm.ts';
import type { StateLayout } from '../../state/layout.ts';
import type { ObserveTarget, PhaseContext, PlanInput, Phase } from '../phase.ts';
import { exec, place, type Step } from '../step.ts';
import { stateLayout } from './admin-state.ts';
import { firstControlPlane, joinCredentials, kubeadmCluster, kubeadmNode, kubectl, KUBELET_CONF } from './cluster.ts';
import { clusterCaHashes, firstHost, firstInitConfig, freshCertsSteps, noClusterCa, observeCerts, tokenCreateStep, tokenKnown, tokenTtl, type CertsSeen } from './join-access.ts';

export const KUBEADM_JOIN_ARGV = ['kubeadm', 'join', '--config', KUBEADM_CONFIG_PATH];

/** What a join sees: the node's kubelet.conf and the API's node list; when not joined, what the join needs from cp-1. */
export interface JoinSeen {
  kubeletConf: boolean;
  listed: boolean;
  /** Read only when the node has not joined: */
  caCertHashes?: string[];
  tokenKnown?: boolean;
  /** Control planes only. */
  certs?: CertsSeen;
}

/** What the plan is made from besides the observation. */
export interface JoinInput {
  node: string;
  first: string;
  token: string;
  ttl: string;
  /** The join config for these CA pins. */
  joinFile: (caCertHashes: string[]) => RenderedFile;
  /** Control planes: the first control plane's init config (for an upload of the certificates). */
  initConfig?: RenderedFile;
  now: Date;
  layout: StateLayout;
  /** Waits until the API lists the node (a task: runs only when applied). */
  waitListed: () => Promise<void>;
}

/** Whether the API lists the node `name` (asked on the first control plane, through a read-only Host). */
export async function nodeListed(first: Host, name: string): Promise<boolean> {
  return (await first.exec(kubectl('get', 'node', name, '-o', 'json'), { allowFailure: true, timeoutMs: 30_000 })).exitCode === 0;
}

/** The steps from what was seen: [] when joined, else token, certificates, reset, config, join, wait. */
export function planJoin(seen: JoinSeen, input: JoinInput): Step[] {
  if (seen.kubeletConf && seen.listed) return [];
  if (!seen.caCertHashes) throw noClusterCa(input.first);
  const file = input.joinFile(seen.caCertHashes);
  return [
    ...(seen.tokenKnown ? [] : [tokenCreateStep(input.first, input.token, input.ttl)]),
    ...(seen.certs && input.initConfig ? freshCertsSteps(seen.certs, { first: input.first, config: input.initConfig, now: input.now, layout: input.layout }) : []),
    ...(seen.kubeletConf ? [exec(['kubeadm', 'reset', '-f'], { timeoutMs: 300_000 })] : []),
    ...place(file),
    exec(KUBEADM_JOIN_ARGV, { secrets: file.secrets, timeoutMs: 600_000 }),
    { kind: 'task', what: `wait until the API lists ${input.node}`, run: input.waitListed },
  ];
}

/** Observe for a join (`controlPlane`: the certificates' age too). */
export async function observeJoin(target: ObserveTarget, ctx: PhaseContext, controlPlane: boolean): Promise<JoinSeen> {
  const conf = await target.host.exec(sh`test -e ${KUBELET_CONF}`, { allowFailure: true });
  const listed = await nodeListed(firstHost(ctx), target.spec.name);
  const seen: JoinSeen = { kubeletConf: conf.exitCode === 0, listed };
  if (seen.kubeletConf && listed) return seen;
  const hashes = await clusterCaHashes(ctx);
  if (!hashes) return seen;
  seen.caCertHashes = hashes;
  seen.tokenKnown = await tokenKnown(ctx, joinCredentials(ctx).token);
  if (controlPlane) seen.certs = await observeCerts(ctx, target.admin, stateLayout(ctx));
  return seen;
}

/** Polls the API (read-only, on the first control plane) until it lists `name`: kubelet registers the node just after the join. */
async function waitListed(ctx: PhaseContext, name: string): Promise<void> {
  const first = firstHost(ctx);
  for (let i = 0; i < 60; i++) {
    if (await nodeListed(first, name)) return;
    await sleep(1000);
  }
  throw new UserError(`${name} joined, but the API still does not list it after a minute`, { hint: `look at kubelet on ${name} (journalctl -u kubelet)` });
}

/** The plan input of a join of `spec` with the run's token. */
export function joinInput(spec: InventoryHost, ctx: PhaseContext, controlPlane: boolean): JoinInput {
  const credentials = joinCredentials(ctx);
  return {
    node: spec.name, first: firstControlPlane(ctx.inventory).name, token: credentials.token, ttl: tokenTtl(ctx),
    joinFile: (caCertHashes) => renderKubeadmJoin({
      cluster: kubeadmCluster(ctx), node: kubeadmNode(spec), bootstrapToken: credentials.token, caCertHashes,
      ...(controlPlane ? { certificateKey: credentials.certificateKey } : {}),
    }),
    ...(controlPlane ? { initConfig: firstInitConfig(ctx) } : {}),
    now: ctx.now(), layout: stateLayout(ctx), waitListed: () => waitListed(ctx, spec.name),
  };
}

/** A join phase's observe and plan, for control planes or workers. */
export function joinPhase(controlPlane: boolean): Pick<Phase<any, JoinSeen>, 'observe' | 'plan'> {
  return {
    observe: (target, ctx) => observeJoin(target, ctx, controlPlane),
    plan: (seen, { spec, ctx }: PlanInput<unknown>) => planJoin(seen, joinInput(spec, ctx, controlPlane)),
  };
}
