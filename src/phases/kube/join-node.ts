// One `kubeadm join` of a node, shared by join-control-planes, join-workers and add-node: everything is rendered
// and checked before the first change, the token is made known to the cluster again when needed, control planes
// get fresh uploaded certificates, and a node left half-joined (kubelet.conf but not in the API) is reset first.
import type { Host } from '../../hosts/host.ts';
import { sh } from '../../hosts/shell.ts';
import { KUBEADM_CONFIG_PATH, renderKubeadmJoin } from '../../render/kubeadm.ts';
import { placeFiles } from '../place-files.ts';
import type { PhaseContext, PhaseTarget } from '../phase.ts';
import { joinCredentials, kubeadmCluster, kubeadmNode, kubectl, KUBELET_CONF } from './cluster.ts';
import { clusterCaHashes, ensureFreshCerts, ensureToken, firstHost } from './join-access.ts';

export const KUBEADM_JOIN_ARGV = ['kubeadm', 'join', '--config', KUBEADM_CONFIG_PATH];

/** Read-only: does the node have kubelet.conf, and does the API list it? */
export async function joinState(host: Host, ctx: PhaseContext, name: string): Promise<{ kubeletConf: boolean; listed: boolean }> {
  const conf = await host.exec(sh`test -e ${KUBELET_CONF}`, { readOnly: true, allowFailure: true });
  const listed = await firstHost(ctx).exec(kubectl('get', 'node', name, '-o', 'json'), { readOnly: true, allowFailure: true, timeoutMs: 30_000 });
  return { kubeletConf: conf.exitCode === 0, listed: listed.exitCode === 0 };
}

/** True when the node has joined: kubelet.conf is there and the API lists the node. */
export async function hasJoined(target: PhaseTarget, ctx: PhaseContext): Promise<boolean> {
  const s = await joinState(target.host, ctx, target.spec.name);
  return s.kubeletConf && s.listed;
}

/** Joins the node as a control plane or a worker; `token` defaults to the run's bootstrap token. */
export async function joinNode(target: PhaseTarget, ctx: PhaseContext, options: { controlPlane: boolean; token?: string }): Promise<void> {
  const { host, spec } = target;
  const credentials = joinCredentials(ctx);
  const token = options.token ?? credentials.token;
  const file = renderKubeadmJoin({
    cluster: kubeadmCluster(ctx), node: kubeadmNode(spec), bootstrapToken: token, caCertHashes: await clusterCaHashes(ctx),
    ...(options.controlPlane ? { certificateKey: credentials.certificateKey } : {}),
  });
  await ensureToken(ctx, token);
  if (options.controlPlane) await ensureFreshCerts(ctx);
  if ((await joinState(host, ctx, spec.name)).kubeletConf) await host.exec(['kubeadm', 'reset', '-f'], { timeoutMs: 300_000 });
  await placeFiles(host, [file]);
  await host.exec(KUBEADM_JOIN_ARGV, { secrets: file.secrets, timeoutMs: 600_000 });
}
