// What the Kubernetes phases keep on the admin host, in the cluster's state directory (owner-only files): the
// time the control-plane certificates were last uploaded (kubeadm deletes them two hours later) and a copy of
// admin.conf for the user.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError } from '../../errors.ts';
import type { PhaseContext } from '../phase.ts';

const UPLOADED_AT = 'kubeadm-certs-uploaded-at';
export const ADMIN_CONF_COPY = 'admin.conf';

function layout(ctx: PhaseContext) {
  if (!ctx.layout) throw new InternalError('the run context has no state directory');
  return ctx.layout;
}

/** When the certificates were last uploaded by this admin host, if ever. */
export async function readUploadTime(ctx: PhaseContext): Promise<Date | undefined> {
  const text = await readFile(layout(ctx).certsUploadedAt, 'utf8').catch(() => '');
  return text.trim() ? new Date(text.trim()) : undefined;
}

/** Records an upload of the certificates at `at`. */
export async function writeUploadTime(ctx: PhaseContext, at: Date): Promise<void> {
  await mkdir(layout(ctx).dir, { recursive: true });
  await writeFile(layout(ctx).certsUploadedAt, `${at.toISOString()}\n`, { mode: 0o600 });
}

/** The path of the user's copy of admin.conf. */
export function adminConfCopy(ctx: PhaseContext): string {
  return layout(ctx).adminConf;
}

/** Keeps the cluster-admin kubeconfig for the user, owner-only. */
export async function saveAdminConf(ctx: PhaseContext, text: string): Promise<void> {
  await mkdir(layout(ctx).dir, { recursive: true });
  await writeFile(adminConfCopy(ctx), text, { mode: 0o600 });
}
