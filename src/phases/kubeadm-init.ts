// kubeadm-init: the first control plane. The init config (bootstrap token and certificate key made on the admin
// host, kept in the state directory) is rendered and placed owner-only, then `kubeadm init --upload-certs` makes
// the cluster; the upload time is recorded (the certs live two hours) and admin.conf is fetched for the user.
import { sh } from '../hosts/shell.ts';
import type { RenderedFile } from '../render/file.ts';
import { KUBEADM_CONFIG_PATH, renderKubeadmInit } from '../render/kubeadm.ts';
import type { StateLayout } from '../state/layout.ts';
import { adminConfKept, fetchAdminConf, stateLayout, uploadTimeStep } from './kube/admin-state.ts';
import { ADMIN_CONF, firstControlPlane, joinCredentials, kubeadmCluster, kubeadmNode, kubectl } from './kube/cluster.ts';
import type { Phase } from './phase.ts';
import { exec, place, type Step } from './step.ts';

export const KUBEADM_INIT_ARGV = ['kubeadm', 'init', '--config', KUBEADM_CONFIG_PATH, '--upload-certs'];

/** The read-only probe: admin.conf is there and the API server says it is ready. */
export const API_READY = sh`test -e ${ADMIN_CONF} && ${kubectl('get', '--raw', '/readyz')}`;

/** What kubeadm-init sees: the API answering on the first control plane, and the user's admin.conf on the admin host. */
export interface InitSeen {
  apiReady: boolean;
  adminConfKept: boolean;
}

/** What the plan is made from besides the observation: the rendered init config, the time, the state layout. */
export interface InitInput {
  config: RenderedFile;
  now: Date;
  layout: StateLayout;
}

/** The steps from what was seen: init (config, kubeadm, upload time) unless the API answers, then admin.conf fetched. */
export function planKubeadmInit(seen: InitSeen, input: InitInput): Step[] {
  if (seen.apiReady && seen.adminConfKept) return [];
  // Initialised before (only the admin host's copy is missing): kubeadm init refuses a second run anyway.
  const init: Step[] = seen.apiReady ? [] : [
    ...place(input.config),
    exec(KUBEADM_INIT_ARGV, { secrets: input.config.secrets, timeoutMs: 600_000 }),
    uploadTimeStep(input.layout, input.now),
  ];
  return [...init, fetchAdminConf(input.layout)];
}

export const kubeadmInitPhase: Phase<Record<string, unknown>, InitSeen> = {
  id: 'kubeadm-init',
  title: 'kubeadm init on the first control plane',
  undo: 'reset-kubeadm',
  targets: (ctx) => [firstControlPlane(ctx.inventory)],
  async observe(target, ctx) {
    const r = await target.host.exec(API_READY, { allowFailure: true, timeoutMs: 30_000 });
    return { apiReady: r.exitCode === 0 && r.stdout.trim() === 'ok', adminConfKept: await adminConfKept(target.admin, stateLayout(ctx)) };
  },
  plan(seen, { spec, ctx }) {
    const { token, certificateKey } = joinCredentials(ctx);
    const config = renderKubeadmInit({ cluster: kubeadmCluster(ctx), node: kubeadmNode(spec), bootstrapToken: token, certificateKey });
    return planKubeadmInit(seen, { config, now: ctx.now(), layout: stateLayout(ctx) });
  },
};
