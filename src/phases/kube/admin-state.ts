// What the Kubernetes phases keep on the admin host, in the cluster's state directory (owner-only files): the
// time the control-plane certificates were last uploaded (kubeadm deletes them two hours later) and a copy of
// admin.conf for the user.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError } from '../../errors.ts';
import type { PhaseContext } from '../phase.ts';

const UPLOADED_AT = 'kubeadm-certs-uploaded-at';
export const ADMIN_CONF_COPY = 'admin.conf';

function stateDir(ctx: PhaseContext): string {
  if (!ctx.stateDir) throw new InternalError('the run context has no state directory');
  return ctx.stateDir;
}

/** When the certificates were last uploaded by this admin host, if ever. */
export async function readUploadTime(ctx: PhaseContext): Promise<Date | undefined> {
  const text = await readFile(join(stateDir(ctx), UPLOADED_AT), 'utf8').catch(() => '');
  return text.trim() ? new Date(text.trim()) : undefined;
}

/** Records an upload of the certificates at `at`. */
export async function writeUploadTime(ctx: PhaseContext, at: Date): Promise<void> {
  await mkdir(stateDir(ctx), { recursive: true });
  await writeFile(join(stateDir(ctx), UPLOADED_AT), `${at.toISOString()}\n`, { mode: 0o600 });
}

/** The path of the user's copy of admin.conf. */
export function adminConfCopy(ctx: PhaseContext): string {
  return join(stateDir(ctx), ADMIN_CONF_COPY);
}

/** Keeps the cluster-admin kubeconfig for the user, owner-only. */
export async function saveAdminConf(ctx: PhaseContext, text: string): Promise<void> {
  await mkdir(stateDir(ctx), { recursive: true });
  await writeFile(adminConfCopy(ctx), text, { mode: 0o600 });
}
