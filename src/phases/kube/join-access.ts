// What every join needs from the first control plane, read in observe through its Host made read-only: the CA pin
// (the CA certificate read from the node, hashed on the admin host; read once per run), whether the cluster still
// knows the bootstrap token, and whether the uploaded control-plane certificates are young enough for a
// control-plane join. The plan then makes the token again or uploads the certificates again, as steps on that host.
import { InternalError, UserError } from '../../errors.ts';
import type { Host } from '../../hosts/host.ts';
import { ReadOnlyHost } from '../../hosts/read-only.ts';
import type { RenderedFile } from '../../render/file.ts';
import { KUBEADM_CONFIG_PATH, renderKubeadmInit } from '../../render/kubeadm.ts';
import type { StateLayout } from '../../state/layout.ts';
import { filesToChange } from '../place-files.ts';
import type { PhaseContext } from '../phase.ts';
import { memo } from '../run-state.ts';
import type { Step } from '../step.ts';
import { readUploadTime, uploadTimeStep } from './admin-state.ts';
import { ADMIN_CONF, CLUSTER_CA, firstControlPlane, hostOf, joinCredentials, kubeadmCluster, kubeadmNode } from './cluster.ts';
import { caCertHash, certsNeedUpload, listedTokenIds, tokenId, tokenSecret } from './join-secrets.ts';

/** The first control plane's Host, read-only (for observe). */
export function firstHost(ctx: PhaseContext): Host {
  return new ReadOnlyHost(hostOf(ctx, firstControlPlane(ctx.inventory).name));
}

/** `sha256:<hex>` pins of the cluster CA, read once per run from the first control plane; undefined without a CA. */
export async function clusterCaHashes(ctx: PhaseContext): Promise<string[] | undefined> {
  // A missing CA is not remembered: kubeadm-init may make it later in the same run.
  return memo(ctx.state, 'caCertHashesRead', async () => {
    const r = await firstHost(ctx).exec(['cat', CLUSTER_CA], { allowFailure: true });
    if (r.exitCode !== 0) throw NO_CA;
    const hashes = [caCertHash(r.stdout)];
    ctx.state.caCertHashes = hashes;
    return hashes;
  }).catch((error: unknown) => {
    if (error === NO_CA) return undefined;
    throw error;
  });
}
const NO_CA = Symbol('no cluster CA');

/** The refusal of a join when the first control plane has no cluster CA. */
export function noClusterCa(first: string): UserError {
  return new UserError(`${first} has no cluster CA (${CLUSTER_CA}): kubeadm init has not run there`, { hint: 'run the install with the kubeadm-init phase first' });
}

/** The token-create argv (kubeadm accepts the token to create as its argument). */
export function tokenCreateArgv(token: string, ttl: string): string[] {
  return ['kubeadm', 'token', 'create', token, '--ttl', ttl, '--kubeconfig', ADMIN_CONF];
}

export const TOKEN_LIST_ARGV = ['kubeadm', 'token', 'list', '--kubeconfig', ADMIN_CONF, '-o', 'json'];

/** Whether the cluster knows `token` (read on the first control plane). */
export async function tokenKnown(ctx: PhaseContext, token: string): Promise<boolean> {
  const listed = await firstHost(ctx).exec(TOKEN_LIST_ARGV, { secrets: [tokenSecret(token)] });
  return listedTokenIds(listed.stdout).includes(tokenId(token));
}

/** The argv that uploads the control-plane certificates again (encrypted with the config's certificateKey). */
export const UPLOAD_CERTS_ARGV = ['kubeadm', 'init', 'phase', 'upload-certs', '--upload-certs', '--config', KUBEADM_CONFIG_PATH];

/** The init config the first control plane keeps (what an upload of the certificates reads its key from). */
export function firstInitConfig(ctx: PhaseContext): RenderedFile {
  const { token, certificateKey } = joinCredentials(ctx);
  return renderKubeadmInit({ cluster: kubeadmCluster(ctx), node: kubeadmNode(firstControlPlane(ctx.inventory)), bootstrapToken: token, certificateKey });
}

/** What a control-plane join sees of the uploaded certificates: when they were uploaded, and whether cp-1's init config differs. */
export interface CertsSeen {
  uploadedAt?: Date;
  initConfigChanged: boolean;
}

export async function observeCerts(ctx: PhaseContext, admin: Host, layout: StateLayout): Promise<CertsSeen> {
  const uploadedAt = await readUploadTime(admin, layout);
  const initConfigChanged = (await filesToChange(firstHost(ctx), [firstInitConfig(ctx)])).length > 0;
  return { ...(uploadedAt ? { uploadedAt } : {}), initConfigChanged };
}

/** Steps on the first control plane that upload the certificates again when the last upload is (nearly) two hours old. */
export function freshCertsSteps(seen: CertsSeen, input: { first: string; config: RenderedFile; now: Date; layout: StateLayout }): Step[] {
  if (!certsNeedUpload(seen.uploadedAt, input.now)) return [];
  const on = { host: input.first };
  return [
    ...(seen.initConfigChanged ? [{ kind: 'place' as const, on, file: input.config }] : []),
    { kind: 'exec', on, command: UPLOAD_CERTS_ARGV, secrets: input.config.secrets, timeoutMs: 120_000 },
    uploadTimeStep(input.layout, input.now),
  ];
}

/** The step on the first control plane that makes the token known again (once per run, however many nodes join at once). */
export function tokenCreateStep(first: string, token: string, ttl: string): Step {
  return { kind: 'exec', on: { host: first }, command: tokenCreateArgv(token, ttl), secrets: [tokenSecret(token)], once: `token-create:${tokenId(token)}` };
}

/** The token's TTL when this run creates it: the run's (add-node: one hour), else two hours. */
export function tokenTtl(ctx: PhaseContext): string {
  if (!ctx.state.join) throw new InternalError('the bootstrap token and certificate key are not in the run state');
  return ctx.state.join.ttl ?? '2h';
}
