// What every join needs from the first control plane, fetched once per run: the CA pin (the CA certificate read
// from the node, hashed on the admin host), a bootstrap token the cluster still knows (made again when it expired
// or was deleted), and uploaded control-plane certificates young enough for a control-plane join.
import { UserError } from '../../errors.ts';
import type { Host } from '../../hosts/host.ts';
import { KUBEADM_CONFIG_PATH, renderKubeadmInit } from '../../render/kubeadm.ts';
import { filesToChange, placeFiles } from '../place-files.ts';
import type { PhaseContext } from '../phase.ts';
import { memo } from '../run-state.ts';
import { readUploadTime, writeUploadTime } from './admin-state.ts';
import { ADMIN_CONF, CLUSTER_CA, firstControlPlane, hostOf, joinCredentials, kubeadmCluster, kubeadmNode, printed } from './cluster.ts';
import { caCertHash, certsNeedUpload, listedTokenIds, tokenId, tokenSecret } from './join-secrets.ts';

/** The first control plane's Host. */
export function firstHost(ctx: PhaseContext): Host {
  return hostOf(ctx, firstControlPlane(ctx.inventory).name);
}

function once<T>(ctx: PhaseContext, key: string, make: () => Promise<T>): Promise<T> {
  return memo(ctx.state, key, make);
}

/** `sha256:<hex>` pins of the cluster CA, read from the first control plane (read-only). */
export function clusterCaHashes(ctx: PhaseContext): Promise<string[]> {
  return once(ctx, 'caCertHashesRead', async () => {
    const first = firstControlPlane(ctx.inventory).name;
    const r = await firstHost(ctx).exec(['cat', CLUSTER_CA], { readOnly: true, allowFailure: true });
    if (r.exitCode !== 0)
      throw new UserError(`${first} has no cluster CA (${CLUSTER_CA}): kubeadm init has not run there`, { hint: 'run the install with the kubeadm-init phase first' });
    const hashes = [caCertHash(r.stdout)];
    ctx.state.caCertHashes = hashes;
    return hashes;
  });
}

/** The token-create argv (kubeadm accepts the token to create as its argument). */
export function tokenCreateArgv(token: string, ttl: string): string[] {
  return ['kubeadm', 'token', 'create', token, '--ttl', ttl, '--kubeconfig', ADMIN_CONF];
}

/** Makes sure the cluster knows `token` (creating it, for the run's joinTokenTtl or 2 h, when it expired or was deleted). */
export function ensureToken(ctx: PhaseContext, token: string): Promise<void> {
  const ttl = ctx.state.join?.ttl ?? '2h';
  return once(ctx, `tokenKnown:${tokenId(token)}`, async () => {
    const host = firstHost(ctx);
    const secrets = [tokenSecret(token)];
    const listed = await host.exec(['kubeadm', 'token', 'list', '--kubeconfig', ADMIN_CONF, '-o', 'json'], { readOnly: true, secrets });
    if (!listedTokenIds(listed.stdout).includes(tokenId(token))) await host.exec(tokenCreateArgv(token, ttl), { secrets });
  });
}

/** The argv that uploads the control-plane certificates again (encrypted with the config's certificateKey). */
export const UPLOAD_CERTS_ARGV = ['kubeadm', 'init', 'phase', 'upload-certs', '--upload-certs', '--config', KUBEADM_CONFIG_PATH];

/** Uploads the certificates again when the last upload is (nearly) two hours old; the init config must be in place. */
export async function ensureFreshCerts(ctx: PhaseContext): Promise<void> {
  if (!certsNeedUpload(await readUploadTime(ctx), ctx.now())) return;
  const { token, certificateKey } = joinCredentials(ctx);
  const first = firstControlPlane(ctx.inventory);
  const config = renderKubeadmInit({ cluster: kubeadmCluster(ctx), node: kubeadmNode(first), bootstrapToken: token, certificateKey });
  const host = firstHost(ctx);
  await placeFiles(host, await filesToChange(host, [config]));
  const at = ctx.now();
  const upload = await host.exec(UPLOAD_CERTS_ARGV, { secrets: config.secrets, timeoutMs: 120_000 });
  if (printed(upload)) await writeUploadTime(ctx, at);
}
