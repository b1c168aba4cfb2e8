// What the Kubernetes phases keep on the admin host, in the cluster's state directory (owner-only files): the
// time the control-plane certificates were last uploaded (kubeadm deletes them two hours later) and a copy of
// admin.conf for the user. Read in observe through the admin host; written only by steps (`on: 'admin'` write,
// `fetch`), so a dry run records them and writes nothing.
import { InternalError } from '../../errors.ts';
import type { Host } from '../../hosts/host.ts';
import type { StateLayout } from '../../state/layout.ts';
import type { PhaseContext } from '../phase.ts';
import type { Step } from '../step.ts';
import { ADMIN_CONF } from './cluster.ts';

/** The run's state layout (the orchestrator always gives one). */
export function stateLayout(ctx: PhaseContext): StateLayout {
  if (!ctx.layout) throw new InternalError('the run context has no state directory');
  return ctx.layout;
}

/** When the certificates were last uploaded by this admin host, if ever (read through the admin host). */
export async function readUploadTime(admin: Host, layout: StateLayout): Promise<Date | undefined> {
  const text = await admin.readFile(layout.certsUploadedAt).then((b) => b.toString('utf8'), () => '');
  return text.trim() ? new Date(text.trim()) : undefined;
}

/** The step that records an upload of the certificates at `at`. */
export function uploadTimeStep(layout: StateLayout, at: Date): Step {
  return { kind: 'write', on: 'admin', path: layout.certsUploadedAt, content: `${at.toISOString()}\n`, mode: 0o600 };
}

/** Whether the user's copy of admin.conf is on the admin host. */
export async function adminConfKept(admin: Host, layout: StateLayout): Promise<boolean> {
  return (await admin.exec(['test', '-e', layout.adminConf], { allowFailure: true })).exitCode === 0;
}

/** The step that keeps the cluster-admin kubeconfig for the user, owner-only. */
export function fetchAdminConf(layout: StateLayout): Step {
  return { kind: 'fetch', from: ADMIN_CONF, to: layout.adminConf, mode: 0o600 };
}
